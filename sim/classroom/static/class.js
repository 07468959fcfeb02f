// The class game's screens: poll the seat's view, redraw the sections that changed,
// send actions. The server decides everything; this script only shows and asks.
(function () {
  "use strict";
  const body = document.body;
  const token = body.dataset.token, prefix = body.dataset.prefix || "";
  const S = {version: null, turn: null, seatVersion: null, timer: null, synced: Date.now(), busy: false, sent: 0};

  function keep(el) {  // what the user is typing or has chosen, by element id
    const saved = {};
    el.querySelectorAll("input[id], textarea[id], select[id]").forEach((x) => {
      saved[x.id] = {value: x.value, focus: document.activeElement === x,
                     start: x.selectionStart, end: x.selectionEnd};
    });
    return saved;
  }
  function restore(el, saved) {
    Object.entries(saved).forEach(([id, v]) => {
      const x = el.querySelector("#" + CSS.escape(id));
      if (!x || x.type === "checkbox") return;
      if (x.value !== v.value && v.value !== "") x.value = v.value;
      if (v.focus) { x.focus(); try { x.setSelectionRange(v.start, v.end); } catch (e) { /* not a text field */ } }
    });
  }
  function apply(d) {
    S.version = d.version; S.turn = d.turn; S.seatVersion = d.seat_version; S.timer = d.timer; S.synced = Date.now();
    body.dataset.phase = d.phase;
    if (d.sections) {
      const once = d.once || [];
      Object.entries(d.sections).forEach(([id, html]) => {
        const el = document.getElementById(id);
        if (!el) return;
        if (once.includes(id) && el.dataset.filled && html) return;
        const saved = keep(el);
        el.innerHTML = html;
        restore(el, saved);
        if (once.includes(id) && html) el.dataset.filled = "1";
      });
      setupForms();
    }
    drawTimer();
  }
  function fmt(s) { s = Math.max(0, Math.ceil(s)); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }
  function drawTimer() {
    const el = document.getElementById("timer");
    if (!el || !S.timer) return;
    const t = S.timer;
    let rem = t.remaining;
    if (rem !== null && (t.state === "running" || t.state === "warning")) rem -= (Date.now() - S.synced) / 1000;
    let text = "", cls = "timer";
    if (t.state === "none") text = "";
    else if (t.state === "paused") { text = "paused · " + fmt(rem) + " left"; cls += " paused"; }
    else if (rem <= 0) { text = "time is up"; cls += " up"; }
    else { text = fmt(rem) + " left"; if (rem <= t.warning) cls += " warning"; }
    el.textContent = text; el.className = cls;
  }
  function notice(text) {
    const el = document.getElementById("notice");
    if (!el) return;
    el.textContent = text; el.hidden = !text;
    clearTimeout(notice.t); if (text) notice.t = setTimeout(() => { el.hidden = true; }, 8000);
  }
  async function poll(full, mine) {
    // A view asked for before an action was sent may be older than that action's answer:
    // it is not drawn (the next poll brings the state after the action).
    const sent = S.sent;
    try {
      const r = await fetch(`${prefix}/api/${token}/view?v=${full || S.version === null ? "" : S.version}`,
                            {cache: "no-store"});
      if (!r.ok) return;
      const d = await r.json();
      if (mine || (S.sent === sent && !S.busy)) apply(d);
    } catch (e) { /* the server is restarting: the next poll tries again */ }
  }
  // Actions go to the server one at a time, in the order the user made them: a click made
  // while an earlier action is still on its way waits for it (it is never dropped), and the
  // turn and seat version it carries are read when it is sent, after the earlier one's answer.
  // The same action with the same payload waiting or on its way is a double click: sent once.
  let queue = Promise.resolve();
  const waiting = new Set();
  function send(action, payload) {
    const key = action + " " + JSON.stringify(payload);
    if (waiting.has(key)) return Promise.resolve(false);
    waiting.add(key);
    const run = queue.then(async () => {
      S.busy = true; S.sent += 1;
      try {
        const r = await fetch(`${prefix}/api/${token}/${action}`, {
          method: "POST", headers: {"Content-Type": "application/json"},
          body: JSON.stringify(Object.assign({turn: S.turn, seat_version: S.seatVersion}, payload))});
        const d = await r.json();
        if (r.ok) { notice(""); apply(d); return true; }
        notice(d.error || ("refused (" + r.status + ")"));
        await poll(true, true);
        return false;
      } catch (e) { notice("The server did not answer; try again."); return false; }
      finally { S.busy = false; waiting.delete(key); }
    });
    queue = run.then(() => undefined, () => undefined);
    return run;
  }
  function setupForms() {
    document.querySelectorAll("form.effect").forEach((f) => {
      const target = f.querySelector(".target"), op = f.querySelector(".op");
      const value = f.querySelector(".value"), names = f.querySelector(".names");
      const sync = () => {
        const o = target.selectedOptions[0];
        if (!o) return;
        const ops = o.dataset.ops.split(","), kind = o.dataset.kind;
        Array.from(op.options).forEach((x) => { x.hidden = !ops.includes(x.value); });
        if (!ops.includes(op.value)) op.value = ops[0];
        const isNames = kind === "names";
        value.closest("label").hidden = isNames; names.closest("label").hidden = !isNames;
        if (isNames) {
          const want = o.dataset.names.split(",").filter(Boolean);
          if (Array.from(names.options).map((x) => x.value).join() !== want.join()) {
            names.innerHTML = want.map((n) => `<option value="${n}">${n}</option>`).join("");
          }
        } else if (o.dataset.lo !== "None") {
          value.placeholder = `${o.dataset.lo} to ${o.dataset.hi}`;
        }
      };
      if (!f.dataset.ready) { target.addEventListener("change", sync); f.dataset.ready = "1"; }
      sync();
    });
  }
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (!b || b.closest("form")) return;
    ev.preventDefault();
    if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
    const payload = b.dataset.payload ? JSON.parse(b.dataset.payload) : {};
    if (b.dataset.reason) { const r = document.getElementById(b.dataset.reason); if (r) payload.reason = r.value; }
    send(b.dataset.action, payload);
  });
  document.addEventListener("change", (ev) => {
    const x = ev.target;
    if (x.matches("input[type=checkbox][data-action]")) send(x.dataset.action, {key: x.dataset.key, on: x.checked});
  });
  document.addEventListener("submit", async (ev) => {
    const f = ev.target.closest("form[data-action]");
    if (!f) return;
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(f).entries());
    const t = f.querySelector(".target");
    if (t && t.selectedOptions[0] && t.selectedOptions[0].dataset.kind === "names") {
      data.value = data.names; data.kind = "names";
    }
    delete data.names;
    if (await send(f.dataset.action, data)) {
      f.querySelectorAll("textarea, input[name=description], input[name=reason], input[name=value], input[name=minutes]")
        .forEach((x) => { x.value = ""; });
    }
  });
  poll(true);
  setInterval(poll, 1000);
  setInterval(drawTimer, 250);
})();
