"""The class game's screens, rendered on the server: a team's, the facilitator's and the
projector's. Each page is a shell (:func:`shell`) whose sections are redrawn from
:func:`sections` whenever the game's version changes; every value is escaped.

What a screen shows is what its seat may know: a team sees its own ticks, whether the
other teams have submitted (not what), the situation its country would know
(:func:`sim.play.plain.known_to`) and, once a turn has run, every team's moves; the
facilitator sees every submitted move, the deck with the injects still to come, the
queue, the log and every message; the projector sees the grouped forecast, what
happened, who has submitted and the messages sent to everyone.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..play.decisions import FORECAST_NOTE
from ..play.explain import parts_words


def e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def pct(p: float | None) -> str:
    return "–" if p is None else f"{100 * p:.0f}%" if p >= 0.095 or p == 0 else f"{100 * p:.1f}%"


def attrs(**kw: Any) -> str:
    return " ".join(f'{k.replace("_", "-")}="{e(v)}"' for k, v in kw.items() if v is not None)


# ------------------------------------------------------------------ the shell


ONCE = ("compose", "forms", "codes")
"""Sections drawn once (forms being filled in are never redrawn under the user's hands)."""


def shell(seat: dict[str, Any], g: dict[str, Any], prefix: str) -> str:
    """The page a seat's link opens: its sections, filled in and redrawn by the script."""
    role = seat["role"]
    ids = {"team": ["head", "result", "moves", "teams", "situation", "messages"],
           "facilitator": ["head", "controls", "teams", "queue", "deck", "result", "messages", "log"],
           "projector": ["head", "outcomes", "result", "teams", "messages"]}[role]
    if role == "projector":
        body = ("<header id='head' class='head'></header><main class='proj'>"
                "<section id='outcomes' class='panel'></section><section id='result' class='panel'></section></main>"
                "<footer class='proj-foot'><div id='teams'></div><div id='messages'></div></footer>")
    elif role == "team":
        body = ("<header id='head' class='head'></header><div id='notice' class='notice' hidden></div>"
                "<main class='cols'><div class='col'>"
                "<section id='moves' class='panel'></section><section id='teams' class='panel'></section>"
                "<section class='panel'><h2>Messages</h2><div id='messages'></div>"
                "<div id='compose' data-once='1'></div></section></div>"
                "<div class='col'><section id='result' class='panel'></section>"
                "<section id='situation' class='panel'></section></div></main>")
    else:
        body = ("<header id='head' class='head'></header><div id='notice' class='notice' hidden></div>"
                "<main class='cols'><div class='col'><section id='controls' class='panel'></section>"
                "<section id='teams' class='panel'></section><section id='queue' class='panel'></section>"
                "<div id='forms' data-once='1'></div><section id='deck' class='panel'></section></div>"
                "<div class='col'><section id='result' class='panel'></section>"
                "<section class='panel'><h2>Messages and requests</h2><div id='messages'></div>"
                "<div id='compose' data-once='1'></div></section>"
                "<section id='log' class='panel'></section><div id='codes' data-once='1'></div></div></main>")
    assert all(f"id='{i}'" in body for i in ids)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{e(g['title'])} — {e(seat['label'])}</title><link rel='icon' href='data:,'>"
            f"<link rel='stylesheet' href='{e(prefix)}/static/class.css'></head>"
            f"<body class='role-{e(role)}' {attrs(data_token=seat['token'], data_prefix=prefix, data_role=role)}>"
            f"{body}<script src='{e(prefix)}/static/class.js'></script></body></html>")


def join_page(prefix: str, problem: str = "") -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Join a class game</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><link rel='icon' href='data:,'>"
            f"<link rel='stylesheet' href='{e(prefix)}/static/class.css'></head><body class='join'>"
            f"<main class='joinbox'><h1>Join a class game</h1><p>Type the join code your instructor gave your team.</p>"
            f"<form method='post' action='{e(prefix)}/join'><input name='code' id='code' autocomplete='off' "
            f"autofocus maxlength='12' placeholder='e.g. K7Q4MX'> <button>Join</button></form>"
            + (f"<p class='error'>{e(problem)}</p>" if problem else "") + "</main></body></html>")


# ------------------------------------------------------------------ forms that stay put


def compose_form(seat: dict[str, Any], seats: list[dict[str, Any]]) -> str:
    """Writing a message: to a team, to everyone, or (a team) a request for information to the facilitator."""
    teams = [s for s in seats if s["role"] == "team" and s["seat"] != seat["seat"]]
    opts = "".join(f"<option value='{e(s['seat'])}'>{e(s['label'])}</option>" for s in teams)
    if seat["role"] == "team":
        opts = ("<option value='facilitator'>the facilitator (a request for information)</option>" + opts
                + "<option value='all'>everyone</option>")
    else:
        opts += "<option value='all'>everyone</option>"
    return (f"<form class='compose' data-action='message'><label>To <select name='to' id='msg-to'>{opts}</select>"
            f"</label><textarea name='text' id='msg-text' rows='2' maxlength='1000' placeholder='Your message'>"
            f"</textarea><button type='submit'>Send</button></form>")


def effect_form(targets: list[dict[str, Any]], action: str, title: str, reason: bool) -> str:
    """The facilitator's menu for an event or an overruling: what, how, by how much, in words."""
    opts = "".join(f"<option value='{e(t['path'])}' data-kind='{e(t['kind'])}' data-ops='{e(','.join(t['ops']))}' "
                   f"data-names='{e(','.join(t['names']))}' data-lo='{e(t['lo'])}' data-hi='{e(t['hi'])}'>"
                   f"{e(t['label'])}</option>" for t in targets)
    pid = f"{action}-"
    return (f"<section class='panel'><h2>{e(title)}</h2><form class='effect' data-action='{e(action)}'>"
            f"<label>What <select name='path' id='{pid}path' class='target'>{opts}</select></label>"
            f"<label>How <select name='op' id='{pid}op' class='op'><option value='set'>set to</option>"
            "<option value='add'>add</option><option value='multiply'>multiply by</option>"
            "<option value='remove'>remove</option></select></label>"
            f"<label>Value <input name='value' id='{pid}value' class='value' size='8'></label>"
            f"<label>Who <select name='names' id='{pid}names' class='names'></select></label>"
            f"<label class='wide'>In words <input name='description' id='{pid}description' size='40' "
            "placeholder='what the class reads'></label>"
            + (f"<label class='wide'>Why <input name='reason' id='{pid}reason' size='40' "
               "placeholder='the reason, logged and shown to the class'></label>" if reason else "")
            + f"<button type='submit'>{'Overrule' if reason else 'Add for this turn'}</button></form></section>")


def codes_panel(seats: list[dict[str, Any]], prefix: str, base: str) -> str:
    rows = "".join(f"<tr><td>{e(s['label'])}</td><td class='code'>{e(s['code'])}</td>"
                   f"<td><a href='{e(prefix)}/s/{e(s['token'])}'>{e(base + prefix + '/s/' + s['token'])}</a></td></tr>"
                   for s in seats if s["role"] != "facilitator")
    return (f"<section class='panel'><h2>Seats: join codes and links</h2><p class='note'>Teams type their code at "
            f"{e(base + prefix + '/')} or open their link; keep your own link to yourself.</p>"
            f"<table class='codes'>{rows}</table></section>")


# ------------------------------------------------------------------ sections


def head(svc: Any, seat: dict[str, Any], g: dict[str, Any], game: Any) -> str:
    phase = g["phase"]
    total = game.total_turns if game is not None else "…"
    k = g["turn"] + 1
    if phase == "over":
        where = f"The game is over after {g['turn']} turns"
    elif game is not None and phase in ("open", "running"):
        first, last = game.next_months() if game.turn == g["turn"] else (0, 0)
        span = f"{game.date(first)} to {game.date(last)}" if first else ""
        where = f"Turn {k} of {total}" + (f": {span}" if span else "")
    else:
        where = "Starting"
    state = {"starting": "making the first forecast…", "open": "moves are open", "running": "the turn is running…",
             "over": "", "failed": "could not start"}.get(phase, phase)
    busy = f" · working out {g['busy']}…" if g["busy"] and phase != "running" else ""
    err = f"<div class='error'>{e(g['error'])}</div>" if g["error"] else ""
    debrief = (f" · <a href='{e(svc_prefix(svc))}/s/{e(seat['token'])}/debrief' target='_blank'>the debrief</a>"
               if phase == "over" else "")
    who = seat["label"] if seat["role"] != "team" else f"Team {seat['label']}"
    return (f"<div class='title'>{e(g['title'])}</div><div class='where'><b>{e(who)}</b> · {e(where)}"
            + (" · " if state else "")
            + (f"<span class='phase'>{e(state)}</span>" if state else "") + f"{e(busy)}{debrief}</div>"
            f"<div id='timer' class='timer'></div>{err}")


def svc_prefix(svc: Any) -> str:
    return getattr(svc, "prefix", "")


def _chip(it: dict[str, Any]) -> str:
    title = e(it["description"])
    if it["state"] == "happened":
        return f"<span class='chip done' title='{title}'>{e(it['short'])} <b>✓ {e(it['date'])}</b></span>"
    if it["state"] == "over":
        return f"<span class='chip over' title='{title}'>{e(it['short'])} <b>✗ did not happen</b></span>"
    ch = it["change"]
    arrow = ""
    if ch is not None and abs(ch) >= 0.005:
        size = f"{100 * abs(ch):.0f}" if abs(ch) >= 0.0095 else f"{100 * abs(ch):.1f}"
        arrow = f" <span class='{'up' if ch > 0 else 'down'}'>{'▲' if ch > 0 else '▼'}{size}</span>"
    return f"<span class='chip' title='{title}'>{e(it['short'])} <b>{pct(it['p'])}</b>{arrow}</span>"


def outcomes_html(groups: list[dict[str, Any]], compact: bool = False) -> str:
    """The forecast, one row per group: each outcome's chip (probability and change, or happened / did not)."""
    rows = "".join(f"<tr><th>{e(g['title'])}</th><td>{' '.join(_chip(it) for it in g['items'])}</td></tr>"
                   for g in groups)
    return f"<table class='groups{' compact' if compact else ''}'>{rows}</table>"


def why_html(groups: list[dict[str, Any]], ex: dict[str, Any] | None, top: int = 3,
             names: dict[str, str] | None = None) -> str:
    """The outcomes that moved most this turn with their split, and the moves that changed nothing
    (``names``: each move in words)."""
    if ex is None:
        return ""
    names = names or {}
    movers = sorted(({**it, "group": g["title"]} for g in groups for it in g["items"] if it["why"]),
                    key=lambda it: -abs(it["why"]["total"]))
    movers = [it for it in movers if abs(it["why"]["total"]) >= 0.01][:top]
    items = "".join(f"<li><b>{e(it['group'])}: {e(it['short'])}</b> {100 * it['why']['total']:+.0f} pts — "
                    f"{e(parts_words(it['why'], digits=0))}</li>" for it in movers)
    idle = "".join(f"<li class='idle'>{e(names.get(m['move'], m['move']))}: "
                   f"{'changed nothing in the model' if m['nothing'] == 'model' else 'moved no forecast beyond Monte Carlo error'}"
                   "</li>" for m in ex["moves"] if m["nothing"])
    if not items and not idle:
        return "<h3>Why the forecast moved</h3><p class='note'>No forecast moved by a point or more.</p>"
    return f"<h3>Why the forecast moved</h3><ul class='why'>{items}{idle}</ul>"


def result_html(svc: Any, g: dict[str, Any], game: Any, d: dict[str, Any], *, projector: bool = False) -> str:
    """What the last turn did, revealed to all: every team's moves (and the umpire's fate of
    each), injects, what happened, the forecast grouped and why it moved."""
    t = d["summary"]
    labels = d["labels"]
    if t is None:
        intro = "<h2>Before the first move</h2>"
        if not projector:
            return intro + outcomes_html(d["groups"])
        sit = d["situation"].get("full")
        if sit is None:
            from ..play.situation import situation

            sit = d["situation"]["full"] = situation(game)
        fps = "".join(f"<li>{e(f['name'])}: rung {f['level']} ({e(f['rung'])})</li>" for f in sit["flashpoints"])
        ter = "".join(f"<li>{e(x['name'])} held by {e(x['controller'])}</li>" for x in sit["territories"])
        return (intro + f"<h3>Where things stand</h3><ul class='events'>{fps}{ter}</ul>"
                "<p class='note'>The teams decide in secret; their moves show here when the turn has run, with what "
                "happened and why the forecast moved.</p>")
    span = t["from"] + (f" to {t['to']}" if t["to"] != t["from"] else "")
    by_team: dict[str, list[str]] = {}
    for f in t["fates"]:
        word = "" if f["fate"] == "played" else f" ({f['fate']}{': ' + f['reason'] if f['reason'] else ''})"
        note = f" [{f['note']}]" if f.get("note") else ""
        phrase = next((m["phrase"] for m in t["moves"] if m["key"] == f["key"]), f["key"])
        by_team.setdefault(f["seat"], []).append(f"{phrase}{word}{note}")
    for m in t["moves"]:  # moves without a fate: a game played without seats
        if not any(f["key"] == m["key"] for f in t["fates"]):
            by_team.setdefault(m["actor"], []).append(m["phrase"])
    moves = "".join(f"<li><b>{e(labels.get(s, s))}</b>: {e('; '.join(v))}</li>" for s, v in by_team.items())
    teams_silent = [s for s in d["teams"] if s not in by_team]
    if teams_silent:
        moves += "".join(f"<li><b>{e(labels.get(s, s))}</b>: no moves</li>" for s in teams_silent)
    inj = "".join(f"<li class='inject'>{e(x)}</li>" for x in t["injects"])
    rul = "".join(f"<li class='ruling'>{e(x)}</li>" for x in t["rulings"])
    ev = "".join(f"<li><span class='m'>{e(mo)}</span> {e(x)}</li>" for mo, x in t["events"][: 6 if projector else 8])
    more = t["more"] + max(0, len(t["events"]) - (6 if projector else 8))
    if more:
        ev += f"<li class='note'>and {more} more</li>"
    deaths = ", ".join(f"{k} {v:,.0f}" for k, v in t["deaths"].items())
    out = [f"<h2>Turn {t['turn']}: {e(span)}</h2>", f"<h3>The teams' moves</h3><ul class='moves-done'>{moves}</ul>"]
    if inj or rul:
        out.append(f"<h3>Injects and rulings</h3><ul>{inj}{rul}</ul>")
    out.append(f"<h3>What happened</h3><ul class='events'>{ev or '<li>Quiet.</li>'}</ul>")
    if deaths:
        out.append(f"<p class='deaths'>Killed this turn: {e(deaths)}</p>")
    if not projector:
        out.append("<h3>The forecast</h3>" + outcomes_html(d["groups"]))
    if d["explaining"]:
        out.append("<p class='note'>Working out why the forecast moved…</p>")
    else:
        words = {m["key"]: f"{labels.get(m['actor'], m['who'])}: {m['phrase']}" for m in t["moves"]}
        out.append(why_html(d["groups"], d["ex"], names=words))
    return "".join(out)


def situation_html(sit: dict[str, Any]) -> str:
    fps = "".join(f"<li>{e(f['name'])}: rung {f['level']} ({e(f['rung'])})"
                  + (f", {f['deaths']:,.0f} killed so far" if f["deaths"] >= 0.5 else "") + "</li>"
                  for f in sit["flashpoints"])
    mem = "".join(f"<li>{e(m['label'])}: {e(m['status'])}, trust {m['trust']:.2f} (at the start {m['start']:.2f})</li>"
                  for m in sit["members"])
    cap = "; ".join(f"{c['name']} {c['value']:.2f}" for c in sit["capability"])
    aff = "; ".join(f"{a['label']} {a['value']:+.2f}" for a in sit["affinity"])
    sh = "; ".join(f"{s['label']} {100 * s['share']:.0f}%" for s in sit["shares"])
    ter = "; ".join(f"{t['name']} held by {t['controller']}" for t in sit["territories"])
    out = [f"<h2>The situation, as your country knows it</h2><ul>{fps}{mem}</ul>"]
    for title, text in (("Capability (relative)", cap), ("Attitudes (−1 to 1)", aff), ("Arms imports", sh),
                        ("Territory", ter)):
        if text:
            out.append(f"<p><b>{e(title)}:</b> {e(text)}</p>")
    for sec in sit.get("declared", []):
        out.append(f"<p><b>{e(sec['title'])}:</b> " + e("; ".join(f"{r['label']} {r['value']:.2f}" for r in sec["rows"]))
                   + "</p>")
    return "".join(out)


def moves_html(seat: dict[str, Any], g: dict[str, Any], d: dict[str, Any], mine: dict[str, Any] | None,
               carried: list[dict[str, Any]], rulings: dict) -> str:
    if g["phase"] == "over":
        return "<h2>Your moves</h2><p class='note'>The game is over: the debrief is linked at the top.</p>"
    keys = set((mine or {}).get("keys", []))
    submitted = (mine or {}).get("status") == "submitted"
    open_ = g["phase"] == "open" and not (g["busy"] or "").startswith("turn")
    items = []
    for c in d["choices"][seat["seat"]]:
        r = rulings.get((seat["seat"], c.key))
        ruled = f" <span class='ruled {e(r['ruling'])}'>{e(r['ruling'])}ed by the umpire</span>" if r else ""
        dis = " disabled" if submitted or not open_ else ""
        items.append(f"<li><label><input type='checkbox' data-action='tick' {attrs(data_key=c.key)}"
                     f"{' checked' if c.key in keys else ''}{dis}> <b>{e(c.title)}</b></label>{ruled}"
                     f"<div class='changes'>{e('; '.join(c.changes))}</div>"
                     + (f"<div class='advice'>Advice: {e(c.advice)}</div>" if c.advice else "") + "</li>")
    late = "".join(f"<li class='carried'>Delayed by the umpire from turn {c['from_turn']}: <b>{e(c['key'])}</b> "
                   "(played this turn)</li>" for c in carried)
    if not open_:
        status = "<p class='note'>Moves are closed while the turn runs.</p>" if g["phase"] == "running" else ""
        button = ""
    elif submitted:
        status = f"<p class='ok'>Submitted: {e(', '.join(sorted(keys)) or 'no moves')}. Waiting for the other teams.</p>"
        button = "<button data-action='withdraw'>Take our moves back</button>"
    else:
        status = "<p class='note'>Tick your moves in secret; the other teams see only whether you have submitted.</p>"
        button = f"<button class='primary' data-action='submit'>Submit {len(keys)} move{'s' if len(keys) != 1 else ''}</button>"
    return (f"<h2>Your moves, turn {g['turn'] + 1}</h2>{status}<ul class='levers'>{late}{''.join(items)}</ul>{button}")


def teams_html(g: dict[str, Any], d: dict[str, Any], choices: dict[str, Any], *, facilitator: bool = False,
               rulings: dict | None = None) -> str:
    if g["phase"] == "over":
        return "<h2>Teams</h2><p class='note'>The game is over: " + e(", ".join(d["labels"][s] for s in d["teams"])) + ".</p>"
    rows = []
    for s in d["teams"]:
        c = choices.get(s, {})
        done = c.get("status") == "submitted"
        state = "<span class='ok'>submitted</span>" if done else "<span class='wait'>deciding…</span>"
        detail = ""
        if facilitator and done:
            parts = []
            for key in c["keys"]:
                r = (rulings or {}).get((s, key))
                current = r["ruling"] if r else "accept"
                rid = f"reason-{s}-{key}"
                btns = "".join(
                    f"<button class='rule{' on' if current == w else ''}' data-action='rule' "
                    f"data-payload='{e(json.dumps({'target_seat': s, 'key': key, 'ruling': w}))}' "
                    f"data-reason='{e(rid)}'>{w}</button>" for w in ("accept", "reject", "delay"))
                parts.append(f"<li><code>{e(key)}</code> {btns} <input id='{e(rid)}' class='reason' "
                             f"placeholder='reason (optional)' value='{e(r['reason'] if r else '')}'></li>")
            detail = f"<ul class='submitted'>{''.join(parts) or '<li>no moves</li>'}</ul>"
        rows.append(f"<li class='team'><b>{e(d['labels'][s])}</b> {state}{detail}</li>")
    return f"<h2>Teams</h2><ul class='teams'>{''.join(rows)}</ul>"


def messages_html(msgs: list[dict[str, Any]], labels: dict[str, str], me: str | None) -> str:
    if not msgs:
        return "<p class='note'>No messages yet.</p>"
    out = []
    for m in reversed(msgs[-30:]):
        frm = "you" if m["sender"] == me else labels.get(m["sender"], m["sender"])
        to = "you" if m["recipient"] == me else labels.get(m["recipient"], m["recipient"])
        kind = {"request": "request for information", "answer": "answer", "message": "message"}[m["kind"]]
        out.append(f"<li class='msg {e(m['kind'])}'><span class='meta'>Turn {m['turn']} · {e(frm)} → {e(to)} · "
                   f"{e(kind)}</span><div class='text'>{e(m['text'])}</div></li>")
    return f"<ul class='messages'>{''.join(out)}</ul>"


def deck_html(game: Any, queued: list[dict[str, Any]]) -> str:
    from ..play.plain import effect_words

    if game is None:
        return ""
    rows = []
    names = {q["name"] for q in queued if q["kind"] == "inject"}
    for inj in game.deck:
        if inj.name in game.fired:
            state = "<span class='done'>played</span>"
        elif inj.at is not None:
            state = f"fires by itself in {e(inj.at)}"
        elif inj.when is not None:
            state = f"fires by itself when {e(inj.when)}"
        elif inj.name in names:
            state = "<span class='ok'>queued for this turn</span>"
        else:
            state = (f"<button data-action='queue_inject' data-payload='{e(json.dumps({'name': inj.name}))}'>"
                     "play this turn</button>")
        rows.append(f"<tr><td><code>{e(inj.name)}</code></td><td>{state}</td><td>{e(inj.description)}<div class='changes'>"
                    f"{e('; '.join(effect_words(game.scn, inj.effect)))}</div><div class='note'>{e(inj.note)}</div></td></tr>")
    return ("<h2>The deck (hidden from the teams)</h2>"
            + (f"<table class='deck'>{''.join(rows)}</table>" if rows else "<p class='note'>No inject deck.</p>"))


def queue_html(queued: list[dict[str, Any]], k: int) -> str:
    if not queued:
        return f"<h2>For turn {k}</h2><p class='note'>No injects or events queued.</p>"
    rows = "".join(f"<li>{e(q['kind'])}: {e(q['description'])} <button data-action='unqueue' "
                   f"data-payload='{e(json.dumps({'id': q['id']}))}'>take back</button></li>" for q in queued)
    return f"<h2>For turn {k}</h2><ul>{rows}</ul>"


def controls_html(g: dict[str, Any], game: Any) -> str:
    k = g["turn"] + 1
    b = []
    if g["phase"] == "open":
        b.append("<button data-action='resume' class='primary'>Start the clock</button>" if g["paused"]
                 else "<button data-action='pause'>Pause</button>")
        b.append("<button data-action='run_now'>Run the turn now</button>")
        b.append("<form class='inline' data-action='set_timer'><input name='minutes' id='set-minutes' size='4' "
                 "placeholder='min'> <button>Set minutes left</button></form>")
    if g["phase"] in ("open", "over") and g["turn"] >= 1:
        b.append(f"<button data-action='undo' data-confirm='Undo turn {g['turn']}? The game goes back to before it; "
                 f"the teams get their moves back as drafts.'>Undo turn {g['turn']}</button>")
    return f"<h2>Turn {k if g['phase'] != 'over' else g['turn']}</h2><div class='buttons'>{''.join(b)}</div>"


def log_html(rows: list[dict[str, Any]]) -> str:
    items = "".join(f"<li class='log {e(r['kind'])}'><span class='meta'>turn {r['turn']}</span> {e(r['text'])}</li>"
                    for r in reversed(rows[-60:]))
    return f"<h2>Log</h2><ul class='log'>{items}</ul>"


# ------------------------------------------------------------------ putting a screen together


def derived(svc: Any, gid: str, game: Any) -> dict[str, Any]:
    """What every screen of a game shows of the saved game (made once per save)."""
    from ..play.decisions import team_choices
    from ..play.summary import forecast_groups, turn_summary

    key = (gid, svc.store.save_rev(gid))
    cache = svc.__dict__.setdefault("_derived", {})
    if key in cache:
        return cache[key]
    seats = svc.store.seats(gid)
    teams = [s["seat"] for s in seats if s["role"] == "team"]
    d = {"labels": {s["seat"]: s["label"] for s in seats} | {"all": "everyone", "facilitator": "the facilitator"},
         "teams": teams, "groups": forecast_groups(game) if game else [], "summary": turn_summary(game) if game else None,
         "ex": (game.explanations[game.turn - 1] if game and game.turn and len(game.explanations) >= game.turn else None),
         "choices": {a: team_choices(game, a) for a in teams} if game else {a: [] for a in teams},
         "situation": {}}
    if len(cache) > 64:
        cache.clear()
    cache[key] = d
    return d


def known_situation(game: Any, d: dict[str, Any], actor: str) -> dict[str, Any]:
    from ..play.plain import known_to
    from ..play.situation import situation

    if "full" not in d["situation"]:
        d["situation"]["full"] = situation(game)
    if actor not in d["situation"]:
        d["situation"][actor] = known_to(d["situation"]["full"], actor)
    return d["situation"][actor]


def sections(svc: Any, seat: dict[str, Any], g: dict[str, Any], base: str = "") -> dict[str, str]:
    """Every section of a seat's screen, as HTML (``base``: the server's address, for the
    links the facilitator hands out)."""
    gid = g["id"]
    game = svc.game_obj(gid) if g["phase"] != "starting" else None
    if game is not None and game.turn != g["turn"]:
        game = None  # the store moved on (a turn, an undo) and the game is being reloaded
    d = derived(svc, gid, game) if game is not None else {"labels": {s["seat"]: s["label"] for s in svc.store.seats(gid)},
                                                          "teams": [s["seat"] for s in svc.store.seats(gid) if s["role"] == "team"],
                                                          "groups": [], "summary": None, "ex": None, "choices": {},
                                                          "situation": {}}
    shared = d
    d = {**d, "explaining": bool(g["busy"]) and g["busy"].startswith("why")}
    k = g["turn"] + 1
    choices = svc.store.choices(gid, k)
    rulings = svc.store.rulings(gid, k)
    msgs = svc.store.messages(gid)
    out = {"head": head(svc, seat, g, game)}
    role = seat["role"]
    if game is None:
        wait = "<p class='note'>The game is starting: the forecast before the first move is being made.</p>"
        if g["phase"] == "failed":
            wait = f"<p class='error'>The game could not start: {e(g['error'])}</p>"
        for sid in ("result", "moves", "situation", "outcomes", "deck", "queue", "controls"):
            out[sid] = wait if sid in ("result", "outcomes") else ""
        out["teams"] = teams_html(g, d, choices)
        out["messages"] = messages_html([m for m in msgs if role == "facilitator" or m["recipient"] == "all"], d["labels"],
                                        seat["seat"])
        out["log"] = log_html(svc.store.log_rows(gid)) if role == "facilitator" else ""
        return out
    seats = svc.store.seats(gid)
    if role in ("team", "facilitator"):
        out["compose"] = compose_form(seat, seats)
    if role == "team":
        mine = [m for m in msgs if m["sender"] == seat["seat"] or m["recipient"] in (seat["seat"], "all")]
        out["moves"] = moves_html(seat, g, d, choices.get(seat["seat"]), svc.store.carried(gid, k),
                                  {key: r for key, r in rulings.items() if key[0] == seat["seat"]})
        out["teams"] = teams_html(g, d, choices)
        out["result"] = result_html(svc, g, game, d)
        out["situation"] = situation_html(known_situation(game, d, seat["seat"]))
        out["messages"] = messages_html(mine, d["labels"], seat["seat"])
    elif role == "facilitator":
        queued = svc.store.queue(gid, k)
        out["controls"] = controls_html(g, game)
        out["teams"] = teams_html(g, d, choices, facilitator=True, rulings=rulings)
        out["queue"] = queue_html(queued, k) if g["phase"] != "over" else ""
        out["deck"] = deck_html(game, queued)
        out["result"] = result_html(svc, g, game, d)
        out["messages"] = messages_html(msgs, d["labels"], "facilitator")
        out["log"] = log_html(svc.store.log_rows(gid))
        if "forms" not in d:  # the same menu for the whole game
            from ..play.plain import effect_targets

            targets = effect_targets(game.scn, game.played)
            d["forms"] = (effect_form(targets, "queue_event", "Add an event for this turn", reason=False)
                          + effect_form(targets, "overrule", "Overrule a result of the model", reason=True))
        out["forms"] = shared["forms"] = d["forms"]
        out["codes"] = codes_panel(seats, svc_prefix(svc), base)
    else:
        out["outcomes"] = "<h2>The forecast</h2>" + outcomes_html(d["groups"], compact=True) + (
            "<p class='note'>Probability by the end of the game, from "
            f"{game.forecast_runs:,} continuations; ▲▼ the change in points since the last turn. "
            f"{e(FORECAST_NOTE)}</p>")
        out["result"] = result_html(svc, g, game, d, projector=True)
        out["teams"] = "<b>The game is over.</b>" if g["phase"] == "over" else "<b>Teams:</b> " + " · ".join(
            f"{e(d['labels'][s])} {'✓ submitted' if choices.get(s, {}).get('status') == 'submitted' else '… deciding'}"
            for s in d["teams"])
        public = [m for m in msgs if m["recipient"] == "all"][-2:]
        out["messages"] = "".join(f"<div class='msg'><b>{e(d['labels'].get(m['sender'], m['sender']))}:</b> "
                                  f"{e(m['text'])}</div>" for m in public)
    return out
