#!/usr/bin/env node
// Talks to a running Prometheus for promql_live_test.sh (HTTP API only).
//
//   promql_live.js wait-ready --prom URL --timeout S
//       Polls /-/ready until Prometheus serves queries.
//   promql_live.js wait-scrapes --prom URL --after EPOCH_MS --count N --timeout S [--pid PID]
//       Polls /api/v1/targets until the videogen target is up and has been
//       scraped N distinct times after EPOCH_MS; fails at once if PID exits.
//   promql_live.js query-all --prom URL --dashboard F --rules R... [--rate-interval 1m]
//       Evaluates every dashboard and rule expression (Grafana variables
//       substituted). Fails on any expression that does not parse or errors;
//       dashboard panels and variables must also return data. Alert and
//       recording rules need only evaluate (their conditions may be false).
// Polling is bounded by --timeout and waits on Prometheus' own state.
"use strict";

const P = require("./promql.js");

function parseArgs(argv) {
  const args = {};
  let key = null;
  for (const a of argv) {
    if (a.startsWith("--")) { key = a.slice(2); args[key] = args[key] || []; } else if (key) args[key].push(a);
  }
  return args;
}
const one = (args, k, d) => (args[k] ? args[k][0] : d);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function getJson(url) {
  const res = await fetch(url);
  const body = await res.text();
  try {
    return JSON.parse(body);
  } catch {
    return { status: "error", error: `HTTP ${res.status}: ${body.slice(0, 200)}` };
  }
}

class ExitedError extends Error {}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function poll(what, timeoutS, fn) {
  const deadline = Date.now() + timeoutS * 1000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fn();
      if (r === true) return;
      last = r || last;
    } catch (err) {
      if (err instanceof ExitedError) throw err;
      last = err.message;
    }
    await pause(200);  // between polls of Prometheus' state
  }
  throw new Error(`timed out after ${timeoutS}s waiting for ${what} (${last})`);
}

async function waitReady(args) {
  const prom = one(args, "prom");
  await poll("Prometheus ready", Number(one(args, "timeout", "60")), async () => {
    const res = await fetch(`${prom}/-/ready`);
    return res.ok || `HTTP ${res.status}`;
  });
  return [];
}

async function waitScrapes(args) {
  const prom = one(args, "prom");
  const after = Number(one(args, "after", "0"));
  const want = Number(one(args, "count", "1"));
  const seen = new Set();
  const pid = Number(one(args, "pid", "0"));
  await poll(`${want} scrapes of the videogen target`, Number(one(args, "timeout", "60")), async () => {
    if (pid && !alive(pid)) throw new ExitedError(`the server (pid ${pid}) exited`);
    const r = await getJson(`${prom}/api/v1/targets?state=active`);
    const t = (r.data && r.data.activeTargets || []).find((x) => x.labels.job === "videogen");
    if (!t) return "no videogen target yet";
    if (t.health !== "up") return `target ${t.scrapeUrl} is ${t.health}: ${t.lastError}`;
    const ts = Date.parse(t.lastScrape);
    if (ts > after) seen.add(ts);
    return seen.size >= want || `${seen.size} scrapes so far`;
  });
  return [];
}

async function queryAll(args) {
  const prom = one(args, "prom");
  const rate = one(args, "rate-interval", "1m");
  const exprs = [];
  for (const e of P.dashboardExprs(P.loadDashboard(one(args, "dashboard")))) exprs.push({ ...e, expr: P.substitute(e.expr, rate) });
  for (const e of P.ruleExprs(args.rules || [])) exprs.push(e);
  const problems = [];
  let passed = 0;
  for (const e of exprs) {
    const r = await getJson(`${prom}/api/v1/query?query=${encodeURIComponent(e.expr)}`);
    let problem = null;
    if (r.status !== "success") problem = `${r.errorType || "error"}: ${r.error}`;
    else if ((e.kind === "panel" || e.kind === "variable") && r.data.result.length === 0) problem = "returned no data";
    else if (e.kind === "variable" && !r.data.result.some((s) => e.label in s.metric || ["pod"].includes(e.label)))
      problem = `no series carries the label "${e.label}"`;
    if (problem) problems.push(`${e.id}: ${problem}\n    ${e.expr.replace(/\s+/g, " ")}`);
    else passed++;
  }
  process.stdout.write(`promql: ${passed} passed, ${problems.length} failed\n`);
  return problems;
}

const COMMANDS = { "wait-ready": waitReady, "wait-scrapes": waitScrapes, "query-all": queryAll };

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!COMMANDS[cmd]) {
    process.stderr.write(`usage: promql_live.js ${Object.keys(COMMANDS).join("|")} ...\n`);
    return 2;
  }
  let problems;
  try {
    problems = await COMMANDS[cmd](parseArgs(rest));
  } catch (err) {
    problems = [err.message];
  }
  for (const p of problems) process.stderr.write(`FAIL: ${p}\n`);
  return problems.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; });
