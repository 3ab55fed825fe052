// 登记: the registration form's helpers. The form works without them (intake checks every
// field on submit); with them the registrar sees while typing: the ID check (GB 11643), the
// fields of the channel chosen, the place cascade, the classifier's suggestion, the open cases
// of the same petitioner, and the desk's receiving office is remembered.
"use strict";

(function () {
  const user = document.body.dataset.user || "";

  // --- the receipt: Enter (or Alt+N) registers the next one -------------------------------
  const next = document.getElementById("next");
  if (next) {
    next.focus();
    const receipt = document.getElementById("receipt");
    const box = document.getElementById("deadlines");
    let tries = 0;
    async function poll() {
      if (!box || box.dataset.pending !== "1" || tries++ > 10) return;
      try {
        const r = await fetch("/register/api/deadlines/" + encodeURIComponent(receipt.dataset.case), { headers: { Accept: "application/json" } });
        if (r.ok) {
          const d = await r.json();
          if (d.deadlines.length) {
            const ul = document.createElement("ul");
            ul.className = "plain";
            d.deadlines.forEach((x) => { const li = document.createElement("li"); li.textContent = x.label + "：" + x.due; ul.append(li); });
            box.textContent = "";
            box.append(ul);
            box.dataset.pending = "";
            const st = document.getElementById("status-label");
            if (st && d.status_label) st.textContent = d.status_label;
            return;
          }
        }
      } catch (err) { /* the link stays */ }
      setTimeout(poll, 2000);
    }
    setTimeout(poll, 1500);
    return;
  }
  const form = document.getElementById("register-form");
  if (!form) return;

  // --- GB 11643 ---------------------------------------------------------------------------
  const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const C = "10X98765432";
  function idProblem(raw) {
    const v = raw.trim().toUpperCase();
    if (!v) return "";
    if (!/^\d{17}[\dX]$/.test(v)) {
      return v.length < 18 && /^\d*$/.test(v) ? "已输入 " + v.length + " 位，应为18位" : "身份证号码应为18位（最后一位可为X）";
    }
    const y = Number(v.slice(6, 10)), m = Number(v.slice(10, 12)), d = Number(v.slice(12, 14));
    const born = new Date(y, m - 1, d);
    if (y < 1900 || born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d || born > new Date()) {
      return "身份证号码中的出生日期无效";
    }
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(v[i]) * W[i];
    if (C[sum % 11] !== v[17]) return "身份证号码校验位错误";
    return "";
  }

  function checkId(input) {
    const row = input.closest(".person");
    const out = row && row.querySelector(".id-check");
    if (!out) return;
    const problem = idProblem(input.value);
    const complete = input.value.trim().length >= 18;
    out.textContent = problem ? problem : (input.value.trim() ? "身份证号码格式正确" : "");
    out.className = "id-check " + (problem ? (complete ? "field-error" : "hint") : "ok-text");
    input.setAttribute("aria-invalid", problem && complete ? "true" : "false");
    if (!problem && complete) lookUp("id_number", input.value.trim().toUpperCase());
  }

  // --- the channel's own fields -----------------------------------------------------------
  const labels = { visit: "到访时间", letter: "收信日期", phone: "来电时间", online: "收到时间", leader_mailbox: "收到时间" };
  function channel() {
    const c = form.querySelector("input[name=channel]:checked");
    return c ? c.value : "visit";
  }
  function showChannel() {
    const c = channel();
    form.querySelectorAll("[data-channel]").forEach((el) => { el.hidden = el.dataset.channel !== c; });
    const label = document.getElementById("received-label");
    if (label) label.textContent = labels[c] || "收到时间";
    collective();
  }
  form.querySelectorAll("input[name=channel]").forEach((r) => r.addEventListener("change", showChannel));

  // --- 集体访 and representatives (A20) ----------------------------------------------------
  const threshold = Number(form.dataset.threshold || "5");
  const maxReps = Number(form.dataset.maxReps || "5");
  function collective() {
    const persons = document.getElementById("persons");
    const flag = document.getElementById("collective-flag");
    const rule = document.getElementById("rep-rule");
    const n = Number((persons && persons.value) || "0");
    if (flag) flag.hidden = !(channel() === "visit" && n >= threshold);
    const reps = form.querySelectorAll("input[name$='.representative']:checked").length;
    if (rule) {
      rule.textContent = "来访代表最多 " + maxReps + " 名（已选 " + reps + " 名）" + (n >= threshold ? "；已达集体访人数（" + threshold + " 人）" : "");
      rule.classList.toggle("field-error", reps > maxReps);
    }
  }
  form.addEventListener("input", (e) => {
    const t = e.target;
    if (t.matches("[data-id-check]")) {
      const server = t.closest(".field") && t.closest(".field").querySelector(".field-error");
      if (server) { server.remove(); t.closest(".field").classList.remove("invalid"); }
      checkId(t);
    }
    if (t.id === "persons" || (t.name || "").endsWith(".representative")) collective();
    if (t.id === "content" || t.id === "title") suggestSoon();
  });
  form.addEventListener("change", (e) => {
    const t = e.target;
    if ((t.name || "").endsWith(".representative")) collective();
    if (t.matches("[data-phone]") && t.value.trim().length >= 7) lookUp("phone", t.value.trim());
    if (t.id === "accusation") document.getElementById("sealed-note").hidden = !t.checked;
    if (t.id === "anonymous") {
      document.getElementById("people").hidden = t.checked;
      document.getElementById("add-person").hidden = t.checked;
    }
  });

  // --- petitioner rows ---------------------------------------------------------------------
  const people = document.getElementById("people");
  const tpl = document.getElementById("person-template");
  function addPerson() {
    const n = people.querySelectorAll(".person").length;
    if (n >= 20) return;
    const html = tpl.innerHTML.split("__i__").join(String(n));
    people.insertAdjacentHTML("beforeend", html);
    const row = people.lastElementChild;
    row.querySelector(".person-no").textContent = "信访人 " + (n + 1);
    row.querySelectorAll("[data-channel]").forEach((el) => { el.hidden = el.dataset.channel !== channel(); });
    row.querySelector("input").focus();
  }
  document.getElementById("add-person").addEventListener("click", addPerson);

  // --- the desk's receiving office, remembered ---------------------------------------------
  const office = document.getElementById("office");
  const officeKey = "wb.office." + user;
  if (office) {
    const saved = localStorage.getItem(officeKey);
    const typed = form.dataset.kept === "1";
    if (saved && !typed && office.querySelector("option[value='" + CSS.escape(saved) + "']")) office.value = saved;
    office.addEventListener("change", () => localStorage.setItem(officeKey, office.value));
  }

  // --- the place cascade: township → village ------------------------------------------------
  const place1 = document.getElementById("place1");
  const place2 = document.getElementById("place2");
  if (place1 && place2) {
    place1.addEventListener("change", async () => {
      place2.length = 1;
      place2.disabled = true;
      if (!place1.value) return;
      try {
        const r = await fetch("/register/api/units?parent=" + encodeURIComponent(place1.value), { headers: { Accept: "application/json" } });
        if (!r.ok) return;
        for (const u of await r.json()) place2.add(new Option(u.name, u.code));
        place2.disabled = place2.length <= 1;
      } catch (err) { /* the township alone is a place too */ }
    });
  }

  // --- the classifier's suggestion, live ------------------------------------------------------
  const box = document.getElementById("suggestion");
  const category = document.getElementById("category");
  let timer = null, asked = "";
  function suggestSoon() {
    clearTimeout(timer);
    timer = setTimeout(suggest, 500);
  }
  async function suggest() {
    const content = document.getElementById("content").value.trim().slice(0, 3000);
    const title = document.getElementById("title").value.trim().slice(0, 200);
    if (content.length < 5 || content + "|" + title === asked) return;
    asked = content + "|" + title;
    let s;
    try {
      const r = await fetch("/register/api/classify?" + new URLSearchParams({ content, title }), { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      s = await r.json();
    } catch (err) { return; }
    box.textContent = "";
    if (!s.text) { box.hidden = true; return; }
    const p = document.createElement("span");
    p.className = "suggest-text";
    p.textContent = s.text;
    box.append(p);
    const top = s.suggestions.find((x) => x.code === s.category);
    const options = s.category ? [{ code: s.category, name: s.category_name, percent: top ? top.percent : 0 }] : [];
    s.suggestions.forEach((x) => { if (!options.some((o) => o.code === x.code)) options.push(x); });
    options.slice(0, 3).forEach((o) => {
      if (!category || !category.querySelector("option[value='" + CSS.escape(o.code) + "']")) return;
      const b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = "采用：" + o.name + (o.percent ? "（" + o.percent + "%）" : "");
      b.addEventListener("click", () => { category.value = o.code; category.focus(); });
      box.append(b);
    });
    s.notes.forEach((n) => {
      const note = document.createElement("div");
      note.className = "notice";
      note.textContent = n;
      box.append(note);
    });
    box.hidden = false;
  }
  if (document.getElementById("content").value.trim()) suggest();

  // --- the same petitioner's open cases, before submitting -------------------------------------
  const live = document.getElementById("dup-live");
  const shown = new Map();
  async function lookUp(kind, value) {
    if (shown.has(kind + value) || document.getElementById("dup_ok").value === "1") return;
    shown.set(kind + value, []);
    let items;
    try {
      const r = await fetch("/register/api/open-for?" + new URLSearchParams({ [kind]: value }), { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      items = await r.json();
    } catch (err) { return; }
    shown.set(kind + value, items);
    renderDuplicates();
  }
  function renderDuplicates() {
    const all = new Map();
    shown.forEach((items) => items.forEach((i) => all.set(i.case_number, i)));
    live.textContent = "";
    if (!all.size || document.getElementById("dup-server")) { live.hidden = true; return; }
    const h = document.createElement("h2");
    h.textContent = "该信访人已有未办结的信访事项（" + all.size + " 件）";
    live.append(h);
    const link = document.getElementById("link_to");
    all.forEach((i) => {
      const row = document.createElement("div");
      row.className = "dup-row";
      row.textContent = i.case_number + " · " + i.received + " · " + i.status_label + (i.handling_unit_name ? " · " + i.handling_unit_name : "") + " · " + i.excerpt;
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = link.value === i.case_number ? "已关联此件" : "关联到此件";
      b.addEventListener("click", () => { link.value = i.case_number; document.getElementById("dup_ok").value = ""; renderDuplicates(); });
      row.append(" ", b);
      live.append(row);
    });
    const go = document.createElement("button");
    go.type = "button";
    go.textContent = "不是同一事项，作为新件登记";
    go.addEventListener("click", () => { link.value = ""; document.getElementById("dup_ok").value = "1"; live.hidden = true; });
    live.append(go);
    live.hidden = false;
  }

  // --- keys ------------------------------------------------------------------------------------
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const k = e.key.toLowerCase();
    if (k === "n") { e.preventDefault(); window.location.href = "/register"; }
    else if (k === "s") { e.preventDefault(); form.requestSubmit(); }
    else if (k === "p") { e.preventDefault(); addPerson(); }
  });

  // after a refusal the API's message is beside the field: no second one; the first field
  // refused has the focus
  form.querySelectorAll("[data-id-check]").forEach((i) => {
    if (i.value && !i.closest(".field.invalid")) checkId(i);
  });
  const refused = form.querySelector(".field.invalid input, .field.invalid select, .field.invalid textarea");
  if (refused && !document.getElementById("dup-server")) refused.focus();
  showChannel();
})();
