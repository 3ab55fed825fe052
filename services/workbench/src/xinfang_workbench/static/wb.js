// 信访工作台: what every page does in the browser. Pages work without it (plain forms and
// links); with it, new notifications arrive live and the unread count shows in the menu.
"use strict";

(function () {
  const user = document.body.dataset.user;

  // --- links and forms ------------------------------------------------------------------
  document.querySelectorAll("a[data-back]").forEach((a) => {
    a.addEventListener("click", (e) => {
      if (history.length > 1) { e.preventDefault(); history.back(); }
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  // a form is sent once: a second Enter or click while it is on its way does nothing
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (e.defaultPrevented) return;
      if (form.dataset.sending === "1") { e.preventDefault(); return; }
      form.dataset.sending = "1";
      setTimeout(() => { form.dataset.sending = ""; }, 8000);
    });
  });
  document.querySelectorAll("[data-print]").forEach((b) => {
    b.addEventListener("click", () => window.print());
  });
  // 统计: a date typed is a custom period; a report shows the month or the quarter list
  document.querySelectorAll("form[data-period]").forEach((form) => {
    const preset = form.querySelector("select[name=preset]");
    form.querySelectorAll("input[data-custom]").forEach((input) => {
      input.addEventListener("change", () => {
        if (preset && input.value) preset.value = "custom";
      });
    });
  });
  document.querySelectorAll("form[data-report]").forEach((form) => {
    const period = form.querySelector("select[name=period]");
    if (!period) return;
    const show = () => {
      ["month", "quarter"].forEach((name) => {
        const list = form.querySelector("select[name=" + name + "]");
        if (!list) return;
        list.disabled = period.value !== name;
        list.closest(".field").hidden = period.value !== name;
      });
    };
    period.addEventListener("change", show);
    show();
  });

  if (!user) return;

  // --- live notifications and the unread count -------------------------------------------
  const seenKey = "wb.seen." + user;
  const badge = document.getElementById("unread");
  const toasts = document.getElementById("toasts");
  let seen = Number(localStorage.getItem(seenKey) || "0");
  let unread = 0;

  function showCount() {
    if (!badge) return;
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
  }

  const table = document.querySelector("[data-mark-read]");
  if (table) {  // the message page: what it shows is read now
    let top = seen;
    table.querySelectorAll("[data-seq]").forEach((row) => {
      top = Math.max(top, Number(row.dataset.seq));
    });
    seen = top;
    localStorage.setItem(seenKey, String(seen));
  }

  function toast(item) {
    if (!toasts) return;
    const box = document.createElement("div");
    box.className = "toast level-" + (item.level || "info");
    box.setAttribute("role", "status");
    const title = document.createElement("strong");
    title.textContent = item.title || "新消息";
    const body = document.createElement("div");
    body.textContent = item.body || "";
    box.append(title, body);
    if (item.case_id) {
      const link = document.createElement("a");
      link.href = item.alert_id ? "/alerts" : "/cases/" + encodeURIComponent(item.case_id);
      link.textContent = item.alert_id ? "去签收" : "查看案件 " + (item.case_number || "");
      box.append(link);
    }
    toasts.prepend(box);
    while (toasts.children.length > 4) toasts.lastChild.remove();
    setTimeout(() => box.remove(), 20000);
  }

  if (!window.EventSource) return;
  const opened = Date.now();
  // one event reaches several recipients this user oversees (the county office, its leaders…):
  // it is one thing to read, one toast, counted once
  const events = new Set();
  const source = new EventSource("/live/stream?since=" + seen);
  source.addEventListener("notification", (e) => {
    let item;
    try { item = JSON.parse(e.data); } catch { return; }
    if (Number(item.seq) <= seen) return;
    const key = item.source_event_id || String(item.seq);
    if (events.has(key)) {
      if (table) { seen = Math.max(seen, Number(item.seq)); localStorage.setItem(seenKey, String(seen)); }
      return;
    }
    events.add(key);
    if (table) {  // on the message page, a new one is read as it arrives
      seen = Number(item.seq);
      localStorage.setItem(seenKey, String(seen));
    } else {
      unread += 1;
      showCount();
    }
    if (Date.now() - opened > 1500) toast(item);  // the replay of older ones is not news
    document.dispatchEvent(new CustomEvent("wb:notification", { detail: item }));
  });
})();
