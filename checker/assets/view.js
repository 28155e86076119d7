// Fathom's trace view: renders a View (checker/src/view.rs) as a step list
// with what changed, the selected state, and a message sequence diagram.
// Plain DOM, no library; every text goes in as textContent.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function changeNode(c) {
  const d = el("div", { class: "change" }, c.path + ": ");
  if (c.from !== undefined || c.to !== undefined) {
    d.append(el("span", { class: "from" }, c.from ?? ""), " \u2192 ", el("span", { class: "to" }, c.to ?? ""));
  }
  for (const a of c.added || []) d.append(el("span", { class: "add" }, " +" + a));
  for (const r of c.removed || []) d.append(el("span", { class: "rm" }, " \u2212" + r));
  return d;
}

// The message sequence diagram: one lane per process instance, one row per
// step; an arrow from the sending step to the receiving one.
function diagram(view, selected, onSelect) {
  const lanes = view.lanes;
  const laneW = 150, rowH = 26, top = 34, left = 40;
  const width = left + lanes.length * laneW + 20;
  const height = top + view.steps.length * rowH + 30;
  const s = svg("svg", { class: "msd", width, height, viewBox: `0 0 ${width} ${height}`, "data-lanes": lanes.length });
  const x = (lane) => left + lane * laneW + laneW / 2;
  const y = (step) => top + step * rowH + rowH / 2;
  lanes.forEach((name, i) => {
    s.append(svg("text", { x: x(i), y: 16, "text-anchor": "middle", class: "lane-name" }, name));
    s.append(svg("line", { class: "lane", x1: x(i), y1: 24, x2: x(i), y2: height - 10 }));
  });
  const defs = svg("defs");
  defs.append(Object.assign(svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" })));
  defs.lastChild.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#3563d8" }));
  s.append(defs);
  view.messages.forEach((m, i) => {
    const x1 = x(m.from), y1 = y(m.sent_at);
    let cls = "msg", x2 = x(m.to), y2;
    if (m.received_at !== null && m.received_at !== undefined) y2 = y(m.received_at);
    else if (m.lost_at !== null && m.lost_at !== undefined) { cls += " lost"; y2 = y(m.lost_at); x2 = (x1 + x2) / 2; }
    else { cls += " flight"; y2 = height - 14; }
    const line = svg("line", { class: cls, x1, y1, x2, y2, "marker-end": "url(#arrow)", "data-message": i });
    line.append(svg("title", {}, m.text));
    s.append(line);
    s.append(svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 3, "text-anchor": "middle" }, m.text.length > 22 ? m.text.slice(0, 21) + "\u2026" : m.text));
    if (cls.includes("lost")) s.append(svg("text", { x: x2, y: y2 + 4, "text-anchor": "middle", class: "crash" }, "\u2717 lost"));
  });
  view.steps.forEach((st, i) => {
    if (st.duplicate && st.received !== undefined) {
      const m = view.messages[st.received];
      s.append(svg("line", { class: "msg dup", x1: x(m.from), y1: y(m.sent_at), x2: x(st.lane), y2: y(i), "marker-end": "url(#arrow)" }));
      s.append(svg("text", { x: x(st.lane) - 6, y: y(i) - 4, "text-anchor": "end", class: "muted" }, "duplicate"));
    }
    if (st.lane === null || st.lane === undefined) {
      s.append(svg("text", { x: 4, y: y(i) + 4, class: "muted" }, st.index));
      return;
    }
    const dot = svg("circle", { class: "dot" + (i === selected ? " selected" : ""), cx: x(st.lane), cy: y(i), r: 5, "data-step": i });
    dot.append(svg("title", {}, st.index + ": " + st.label));
    dot.addEventListener("click", () => onSelect(i));
    s.append(dot);
    if (st.kind === "crash") s.append(svg("text", { x: x(st.lane) + 8, y: y(i) + 4, class: "crash" }, "\u2717 crash"));
    s.append(svg("text", { x: 4, y: y(i) + 4, class: "muted" }, st.index));
  });
  return s;
}

function stateTable(st) {
  const changed = new Set((st.changes || []).map((c) => c.path.split(/[.[]/)[0]));
  const t = el("table", { class: "state" });
  for (const [k, v] of st.state) {
    const cls = changed.has(k) ? "changed" : "";
    t.append(el("tr", {}, el("td", { class: cls }, k), el("td", { class: cls }, v)));
  }
  return t;
}

// Renders `view` into `root`; returns a handle with select(i).
function renderView(view, root) {
  root.replaceChildren();
  let selected = view.steps.length - 1;
  const list = el("table", { class: "steps", id: "steps" });
  const statePanel = el("div", { class: "panel", id: "state" });
  const diagramPanel = el("div", { class: "panel", id: "diagram" });
  const rows = view.steps.map((st, i) => {
    const lane = st.lane !== null && st.lane !== undefined && view.lanes[st.lane] ? el("span", { class: "lane-tag" }, view.lanes[st.lane]) : "";
    const changes = el("td", {});
    for (const c of st.changes || []) changes.append(changeNode(c));
    const inLoop = view.loop_start && st.index >= view.loop_start;
    const row = el("tr", { class: inLoop ? "loop" : "", "data-step": i, onclick: () => select(i) },
      el("td", { class: "num" }, st.index), el("td", { class: "label" }, st.label, lane), changes);
    list.append(row);
    return row;
  });
  function select(i) {
    selected = i;
    rows.forEach((r, k) => r.classList.toggle("selected", k === i));
    const st = view.steps[i];
    statePanel.replaceChildren(el("h2", {}, "state " + st.index), stateTable(st));
    if (view.lanes.length) diagramPanel.replaceChildren(el("h2", {}, "message sequence"), diagram(view, i, select));
  }
  const stepsPanel = el("div", { class: "panel" }, el("h2", {}, view.steps.length + " states"), list);
  if (view.after) stepsPanel.append(el("div", { class: "after", id: "after" }, view.after));
  const left = el("div", { class: "column" }, stepsPanel);
  const right = el("div", { class: "column" }, statePanel);
  if (view.lanes.length) right.prepend(diagramPanel);
  root.append(left, right);
  if (view.steps.length) select(selected);
  return { select };
}
