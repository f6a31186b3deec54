// kosql ask page: question -> SQL -> guard verdict, cost note, rows, chart; edit and re-run; feedback.
// Plain JS, no libraries, nothing from other servers. Data is only ever put into the page as text.
"use strict";

const $ = (id) => document.getElementById(id);
const HISTORY_KEY = "kosql.history";
const KEY_KEY = "kosql.apiKey";
const HISTORY_MAX = 20;
const SVG_NS = "http://www.w3.org/2000/svg";

const state = { question: "", modelSql: "", result: null, busy: false, maxChars: 1000 };

const MESSAGES = {
  empty_question: "질문을 입력해 주세요.",
  question_too_long: () => `질문이 너무 길어요. ${state.maxChars}자 이내로 줄여 주세요.`,
  empty_sql: "SQL이 비어 있어요. 쿼리를 입력해 주세요.",
  queue_full: "서버가 지금 바빠요. 잠시 후 다시 시도해 주세요.",
  invalid_api_key: "이 서버는 API 키가 필요해요. 아래에 키를 입력해 주세요.",
  no_database: "이 서버에는 연결된 데이터베이스가 없어요 (--db 옵션으로 시작해 주세요).",
  body_too_large: "보낸 내용이 너무 커요.",
  sql_too_long: "SQL이 너무 길어요.",
  refused_sql: "이 SQL은 저장하지 않았어요: 가드나 데이터베이스가 막았어요. 'SQL 다시 실행'으로 이유를 확인해 주세요.",
  no_feedback_file: "이 서버는 피드백을 저장하지 않아요.",
  model_call_failed: "모델 호출이 실패했어요. 잠시 후 다시 시도해 주세요.",
  too_many_prompts: "한 번에 보낸 요청이 서버의 대기열보다 커요.",
  invalid_value: "요청 내용이 올바르지 않아요.",
  missing_field: "요청에 필요한 내용이 빠져 있어요.",
};

function apiKey() { return localStorage.getItem(KEY_KEY) || ""; }

async function post(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (apiKey()) headers["Authorization"] = "Bearer " + apiKey();
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  } catch (err) {
    throw new Error("서버에 연결할 수 없어요. 서버가 켜져 있는지 확인해 주세요.");
  }
  let data = null;
  try { data = await response.json(); } catch (err) { data = null; }
  if (!response.ok) {
    const error = (data && data.error) || {};
    if (response.status === 401) $("key-box").hidden = false;
    const known = MESSAGES[error.code];
    const text = typeof known === "function" ? known() : known;
    throw new Error(text || error.message || `서버가 요청을 처리하지 못했어요 (HTTP ${response.status}).`);
  }
  return data;
}

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

function setBusy(busy, text) {
  state.busy = busy;
  for (const id of ["ask", "run", "fb-correct", "fb-fixed"]) $(id).disabled = busy;
  $("status").textContent = text || "";
}

// ---------------------------------------------------------------- asking and running

async function ask(question) {
  question = (question || "").trim();
  if (!question) { showError(MESSAGES.empty_question); return; }
  if (question.length > state.maxChars) { showError(MESSAGES.question_too_long()); return; }
  showError("");
  setBusy(true, "SQL을 만들고 실행하는 중…");
  try {
    const result = await post("/api/ask", { question });
    state.question = question;
    state.modelSql = result.sql || "";
    $("sql").value = result.sql || "";
    addHistory(question);
    render(result);
  } catch (err) {
    showError(err.message);
  } finally {
    setBusy(false);
  }
}

async function runEdited() {
  const sql = $("sql").value.trim();
  if (!sql) { showError(MESSAGES.empty_sql); return; }
  showError("");
  setBusy(true, "SQL을 실행하는 중…");
  try {
    render(await post("/api/run", { question: state.question, sql }));
  } catch (err) {
    showError(err.message);
  } finally {
    setBusy(false);
  }
}

async function sendFeedback(kind) {
  const sql = $("sql").value.trim();
  if (!state.question) { showError("먼저 질문을 해 주세요."); return; }
  if (kind === "corrected" && sql === state.modelSql.trim()) {
    showError("SQL을 고친 뒤에 '고쳤어요'를 눌러 주세요.");
    return;
  }
  showError("");
  $("fb-status").textContent = "저장하는 중…";
  try {
    await post("/api/feedback", { question: state.question, sql, kind, model_sql: state.modelSql });
    $("fb-status").textContent = kind === "correct" ? "고마워요! 맞는 SQL로 저장했어요." : "고마워요! 고친 SQL을 저장했어요.";
  } catch (err) {
    $("fb-status").textContent = "";
    showError(err.message);
  }
}

// ---------------------------------------------------------------- rendering

function render(result) {
  state.result = result;
  $("sql-box").hidden = false;
  $("fb-status").textContent = "";
  const verdict = result.verdict || {};
  const v = $("verdict");
  v.className = verdict.allowed ? "allowed" : "refused";
  const ko = result.ko || {};  // the guard's and the cost check's sentences in Korean (kosql.messages)
  const notes = (ko.notes || verdict.notes || []).join(", ");
  v.textContent = verdict.allowed ? "가드 통과: 읽기 전용으로 실행했어요." + (notes ? ` (${notes})` : "")
                                  : "가드가 이 SQL을 막았어요: " + (ko.reason || verdict.reason || "");
  const cost = ko.cost || result.cost;
  $("cost").textContent = cost ? "비용 확인: " + cost : "";
  $("timings").textContent = timingText(result.timings || {});
  if (result.error && verdict.allowed) showError(ko.error || result.error);  // a refusal is already said above
  const notSure = renderVote(result.vote);
  renderRepair(result.repair);
  // below the confidence threshold no result is shown as the answer: the candidates are listed instead
  const hasRows = !notSure && !result.error && Array.isArray(result.columns) && result.columns.length > 0;
  $("result-box").hidden = !hasRows;
  if (!hasRows) return;
  const rows = result.rows || [];
  $("row-count").textContent = `${rows.length}행` + (result.truncated ? " (처음 일부만 보여요)" : "");
  renderTable(result.columns, rows);
  renderChart(result.chart, rows);
}

// The vote (kosql serve --vote K): "확신도 NN%", and below the threshold "확실하지 않습니다" with the
// candidates' SQL. Returns true when the answer is not sure.
function renderVote(vote) {
  const box = $("confidence");
  const list = $("candidates");
  list.replaceChildren();
  $("candidates-box").hidden = true;
  box.hidden = !vote;
  if (!vote) return false;
  const pct = Math.round((vote.share || 0) * 100);
  const agreed = vote.greedy_agreed ? "" : " · 첫 번째 답과 다른 답이 다수예요";
  if (vote.confident) {
    box.className = "sure";
    box.textContent = `확신도 ${pct}%${agreed}`;
    return false;
  }
  box.className = "unsure";
  box.textContent = `확실하지 않습니다 (확신도 ${pct}%): 후보 SQL들이 서로 다른 결과를 냈어요.`;
  const seen = new Set();
  for (const c of vote.candidates || []) {
    const sql = c.sql || "";
    if (!sql || seen.has(sql)) continue;
    seen.add(sql);
    const li = document.createElement("li");
    const tag = document.createElement("span");
    tag.className = "votes";
    tag.textContent = c.group === null || c.group === undefined ? "[실패]" : `[${(vote.groups || [])[c.group]}표]`;
    li.appendChild(tag);
    li.appendChild(document.createTextNode(sql));
    if (c.error) li.title = c.error;
    li.addEventListener("click", () => { $("sql").value = sql; });
    list.appendChild(li);
  }
  $("candidates-box").hidden = seen.size === 0;
  return true;
}

function renderRepair(repair) {
  const p = $("repair");
  p.hidden = !repair;
  if (!repair) { p.textContent = ""; return; }
  const how = repair.how === "transpiled" ? "이 데이터베이스의 SQL 문법으로 바꿔서" : "오류와 실제 컬럼을 알려 주고 다시 만들어서";
  p.textContent = `처음 SQL이 실패해서 (${repair.error || ""}) ${how} 실행했어요.`;
}

function timingText(t) {
  const parts = [];
  const names = { generate: "생성", guard: "가드", cost: "비용 확인", execute: "실행" };
  for (const key of Object.keys(names)) {
    if (typeof t[key] === "number") parts.push(`${names[key]} ${t[key].toFixed(2)}초`);
  }
  return parts.join(" · ");
}

function renderTable(columns, rows) {
  const table = $("result");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) {
      const td = tr.insertCell();
      td.textContent = cell === null || cell === undefined ? "NULL" : String(cell);
      if (typeof cell === "number") td.className = "num";
    }
  }
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, val] of Object.entries(attrs || {})) el.setAttribute(k, String(val));
  if (text !== undefined) el.textContent = text;
  return el;
}

function shortLabel(text, max) {
  text = String(text);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

// Draws the declarative spec {kind: bar|line, x_index, y_index, x, y} from the server as inline SVG.
function renderChart(spec, rows) {
  const box = $("chart");
  box.replaceChildren();
  if (!spec || !rows.length) return;
  let points = rows.map((r) => [r[spec.x_index], Number(r[spec.y_index])])
                   .filter((p) => p[0] !== null && p[0] !== undefined && Number.isFinite(p[1]));
  if (spec.kind === "line") points.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  if (!points.length) return;
  const W = 900, H = 300, L = 60, R = 16, T = 28, B = 64;
  const values = points.map((p) => p[1]);
  const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / span);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "data-kind": spec.kind,
                            "data-points": points.length });
  root.appendChild(svg("title", {}, `${spec.y} (${spec.x}별)`));
  root.appendChild(svg("text", { x: L, y: 16 }, `${spec.y} / ${spec.x}`));
  root.appendChild(svg("line", { x1: L, y1: y(0), x2: W - R, y2: y(0), class: "axis" }));
  root.appendChild(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  for (const v of [lo, (lo + hi) / 2, hi]) {
    root.appendChild(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, formatNumber(v)));
  }
  const step = (W - L - R) / points.length;
  const every = Math.max(1, Math.ceil(points.length / 20));
  points.forEach((p, i) => {
    const cx = L + step * (i + 0.5);
    if (spec.kind === "bar") {
      const top = Math.min(y(p[1]), y(0));
      root.appendChild(svg("rect", { x: cx - step * 0.35, y: top, width: step * 0.7,
                                     height: Math.max(1, Math.abs(y(p[1]) - y(0))), class: "bar" }));
    }
    if (i % every === 0) {
      root.appendChild(svg("text", { x: cx, y: H - B + 16, "text-anchor": "end",
                                     transform: `rotate(-35 ${cx} ${H - B + 16})` }, shortLabel(p[0], 14)));
    }
  });
  if (spec.kind === "line") {
    const path = points.map((p, i) => `${i ? "L" : "M"}${(L + step * (i + 0.5)).toFixed(1)},${y(p[1]).toFixed(1)}`);
    root.appendChild(svg("path", { d: path.join(" "), class: "line" }));
    points.forEach((p, i) => root.appendChild(svg("circle", { cx: L + step * (i + 0.5), cy: y(p[1]), r: 3, class: "dot" })));
  }
  box.appendChild(root);
}

function formatNumber(v) {
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("ko-KR") : String(Math.round(v * 100) / 100);
}

// ---------------------------------------------------------------- CSV and history

function csvCell(value) {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function downloadCsv() {
  const r = state.result;
  if (!r || !r.columns) return;
  const lines = [r.columns.map(csvCell).join(",")].concat((r.rows || []).map((row) => row.map(csvCell).join(",")));
  const blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "kosql-result.csv";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function loadHistory() {
  try {
    const items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
    return Array.isArray(items) ? items.filter((q) => typeof q === "string") : [];
  } catch (err) {
    return [];
  }
}

function addHistory(question) {
  const items = [question].concat(loadHistory().filter((q) => q !== question)).slice(0, HISTORY_MAX);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(items));
  renderHistory();
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren();
  for (const q of loadHistory()) {
    const li = document.createElement("li");
    li.textContent = q;
    li.addEventListener("click", () => { $("question").value = q; ask(q); });
    list.appendChild(li);
  }
}

async function loadInfo() {
  try {
    const response = await fetch("/healthz");
    const info = await response.json();
    state.maxChars = (info.limits && info.limits.max_question_chars) || state.maxChars;
    $("question").maxLength = state.maxChars;
    $("server-info").textContent = `모델 ${info.model} · 데이터베이스 ${info.db || "없음"}`;
    if (info.auth && !apiKey()) $("key-box").hidden = false;
  } catch (err) {
    $("server-info").textContent = "서버 정보를 불러오지 못했어요.";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask").addEventListener("click", () => ask($("question").value));
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) ask($("question").value);
  });
  $("run").addEventListener("click", runEdited);
  $("fb-correct").addEventListener("click", () => sendFeedback("correct"));
  $("fb-fixed").addEventListener("click", () => sendFeedback("corrected"));
  $("csv").addEventListener("click", downloadCsv);
  $("clear-history").addEventListener("click", () => { localStorage.removeItem(HISTORY_KEY); renderHistory(); });
  $("save-key").addEventListener("click", () => {
    localStorage.setItem(KEY_KEY, $("api-key").value.trim());
    $("key-box").hidden = true;
    showError("");
  });
  renderHistory();
  loadInfo();
});
