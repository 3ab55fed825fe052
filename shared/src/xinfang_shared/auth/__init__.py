"""Users, roles, tokens and org scoping (issue #7).

- :mod:`.models`: the ``Role`` enum and the ``users`` table a service adds to its metadata;
- :mod:`.security`: password hashing, JWT access and service tokens (pure, no I/O);
- :mod:`.scope`: which part of the org tree a principal may see;
- :mod:`.service`: user accounts in the database (never commits);
- :mod:`.deps`: FastAPI dependencies (current principal, role checks, scope);
- :mod:`.views`: the login and user-administration router.

Import the submodules directly; importing this package loads nothing else.
"""
