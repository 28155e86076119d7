// The explore page: talks to `fathom explore`'s API with the token of the
// address it was opened with, and renders the current path with view.js.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
let busy = false;

async function api(path, body) {
  const init = { method: body === undefined ? "GET" : "POST", headers: { "X-Fathom-Token": token } };
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  let res;
  try { res = await fetch(path, init); } catch (e) { return { error: "the server does not answer (was `fathom explore` stopped?)" }; }
  const text = await res.text();
  try { return JSON.parse(text); } catch (e) { return { error: text || ("HTTP " + res.status) }; }
}

function show(reply, animate) {
  $("error").textContent = reply.error || "";
  if (!reply.view) return;
  $("message").textContent = reply.message || "";
  $("spec").textContent = reply.view.spec;
  $("position").textContent = `state ${reply.cursor} of ${reply.length} on this path`;
  $("status").textContent = reply.violated.length ? reply.violated.join("; ") : "every invariant holds here";
  $("status").className = reply.violated.length ? "error" : "muted";
  const enabled = $("enabled");
  enabled.replaceChildren();
  if (!reply.enabled.length) enabled.append(el("div", { class: "muted" }, "nothing is enabled (deadlock or terminal)"));
  for (const e of reply.enabled) {
    enabled.append(el("button", { class: "fire", "data-instance": e.instance, onclick: () => act("/api/fire", { instance: e.instance }) }, e.label));
  }
  const view = reply.view;
  if (animate && animate.delay > 0 && animate.from < view.steps.length) {
    // Reveal the walk's steps one at a time.
    let k = animate.from;
    const tick = () => {
      k += 1;
      renderView(Object.assign({}, view, { steps: view.steps.slice(0, k), messages: view.messages.filter((m) => m.sent_at < k).map((m) => Object.assign({}, m, { received_at: m.received_at !== null && m.received_at < k ? m.received_at : null, lost_at: m.lost_at !== null && m.lost_at < k ? m.lost_at : null })) }), $("root"));
      if (k < view.steps.length) setTimeout(tick, animate.delay);
    };
    tick();
  } else {
    renderView(view, $("root"));
  }
}

async function act(path, body, animate) {
  if (busy) return;
  busy = true;
  try { show(await api(path, body), animate); } finally { busy = false; }
}

$("back").onclick = () => act("/api/back", {});
$("forward").onclick = () => act("/api/forward", {});
$("reset").onclick = () => act("/api/reset", { ordinal: 0 });
$("walk").onclick = () => {
  const seed = Number($("seed").value), steps = Number($("walksteps").value);
  if (!Number.isInteger(seed) || seed < 0 || !Number.isInteger(steps) || steps < 1) { $("error").textContent = "seed and steps are whole numbers (steps at least 1)"; return; }
  const from = document.querySelectorAll("#steps tr").length;
  act("/api/walk", { seed, steps }, { delay: Number($("speed").value), from });
};
$("reach").onclick = () => act("/api/reach", { query: $("query").value, depth: Number($("depth").value) || 20 });
$("load").onclick = async () => {
  const f = $("tracefile").files[0];
  const text = f ? await f.text() : $("tracetext").value;
  act("/api/load", { trace: text });
};
act("/api/state");
