"""信访工作台: the staff workbench, served to the browser (a backend-for-frontend)."""
