#!/usr/bin/env node
// Offline checks and helpers for deploy/grafana and deploy/prometheus.
//
//   observability.js check --dashboard F --rules R [R...] --emit-rules OUT
//       Structure of the dashboard, names used by every expression (against
//       metrics_contract.json), the required alerts; writes every dashboard
//       expression as a recording rule to OUT so that promtool parses them.
//   observability.js exprs --dashboard F --rules R [R...] [--rate-interval 1m]
//       Prints every expression (Grafana variables substituted) as JSON.
//   observability.js render-config --config F --target HOST:PORT --out DIR
//       [--scrape-interval 1s]
//       Writes DIR/prometheus.yml: F with the videogen job scraping only
//       TARGET and rule_files made absolute.
//   observability.js sync-k8s --rules R --rendered FILE
//       The PrometheusRule in the rendered manifests holds exactly R's groups.
//   observability.js write-k8s-rule --rules R --out deploy/k8s/base/prometheusrule.yaml
//       Regenerates the PrometheusRule from R (after editing the rules).
// Exit status 0 when everything holds; 1 with every problem on stderr.
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");
const P = require("./promql.js");

function parseArgs(argv) {
  const args = { _: [] };
  let key = null;
  for (const a of argv) {
    if (a.startsWith("--")) {
      key = a.slice(2);
      args[key] = args[key] || [];
    } else if (key) {
      args[key].push(a);
    } else {
      args._.push(a);
    }
  }
  return args;
}

function one(args, name, fallback) {
  const v = args[name];
  if (v && v.length === 1) return v[0];
  if (fallback !== undefined && !v) return fallback;
  throw new Error(`--${name} takes exactly one value`);
}

const REQUIRED_VARIABLES = ["datasource", "job", "pod", "device"];
const REQUIRED_ALERTS = [
  "VideogenDeviceMemoryHigh", "VideogenQueueDepthHigh", "VideogenJobFailureRatioHigh",
  "VideogenNoWorkerReady", "VideogenJobDurationP95Regression",
];

function checkDashboard(dash, problems) {
  const vars = ((dash.templating || {}).list || []);
  const names = vars.map((v) => v.name);
  for (const r of REQUIRED_VARIABLES) if (!names.includes(r)) problems.push(`dashboard: variable $${r} missing`);
  const dsVar = vars.find((v) => v.name === "datasource");
  if (dsVar && !(dsVar.type === "datasource" && dsVar.query === "prometheus"))
    problems.push("dashboard: $datasource must be a datasource variable of type prometheus");
  if (!dash.uid || !dash.title) problems.push("dashboard: uid and title are required");
  const ids = new Set();
  const cells = new Map();
  for (const p of P.panelsOf(dash)) {
    if (ids.has(p.id)) problems.push(`dashboard: duplicate panel id ${p.id}`);
    ids.add(p.id);
    const g = p.gridPos || {};
    if (!(g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24 && g.y >= 0))
      problems.push(`panel ${p.id} "${p.title}": bad gridPos ${JSON.stringify(g)}`);
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const k = `${x},${y}`;
        if (cells.has(k)) problems.push(`panel ${p.id} overlaps panel ${cells.get(k)} at ${k}`);
        cells.set(k, p.id);
      }
    }
    if (p.type === "row") continue;
    if (!p.datasource || p.datasource.uid !== "${datasource}")
      problems.push(`panel ${p.id} "${p.title}": datasource must be \${datasource}`);
    if (!p.targets || p.targets.length === 0) problems.push(`panel ${p.id} "${p.title}": no queries`);
    const refs = new Set();
    for (const t of p.targets || []) {
      if (!t.expr || !t.expr.trim()) problems.push(`panel ${p.id} "${p.title}" ${t.refId}: empty expr`);
      if (refs.has(t.refId)) problems.push(`panel ${p.id} "${p.title}": duplicate refId ${t.refId}`);
      refs.add(t.refId);
    }
  }
}

function checkRules(files, problems) {
  const seen = new Set();
  for (const f of files) {
    for (const g of P.loadRuleGroups(f)) {
      for (const r of g.rules) {
        if (!r.alert) continue;
        seen.add(r.alert);
        if (!r.for) problems.push(`${r.alert}: no "for" duration`);
        if (!r.labels || !["warning", "critical"].includes(r.labels.severity))
          problems.push(`${r.alert}: labels.severity must be warning or critical`);
        if (!r.annotations || !r.annotations.summary || !r.annotations.description)
          problems.push(`${r.alert}: summary and description annotations are required`);
      }
    }
  }
  for (const a of REQUIRED_ALERTS) if (!seen.has(a)) problems.push(`alert ${a} missing`);
}

function cmdCheck(args) {
  const problems = [];
  const dash = P.loadDashboard(one(args, "dashboard"));
  checkDashboard(dash, problems);
  const rules = args.rules || [];
  checkRules(rules, problems);
  const exprs = [...P.dashboardExprs(dash), ...P.ruleExprs(rules)];
  for (const e of exprs) {
    let expr;
    try {
      expr = P.substitute(e.expr, "5m");
    } catch (err) {
      problems.push(`${e.id}: ${err.message}`);
      continue;
    }
    for (const p of P.nameProblems(expr)) problems.push(`${e.id}: ${p}`);
  }
  const panelExprs = P.dashboardExprs(dash).filter((e) => e.kind === "panel").map((e) => e.expr);
  for (const m of P.unusedMetrics(panelExprs)) problems.push(`dashboard: no panel shows ${m}`);
  if (args["emit-rules"]) {
    // Every dashboard query as a recording rule, so `promtool check rules`
    // parses it exactly as Prometheus would.
    const rulesDoc = {
      groups: [{
        name: "dashboard-queries",
        rules: P.dashboardExprs(dash).map((e, i) => ({ record: `dashboard:query_${i}`, expr: P.substitute(e.expr, "5m") })),
      }],
    };
    fs.writeFileSync(one(args, "emit-rules"), YAML.stringify(rulesDoc));
  }
  return problems;
}

function cmdExprs(args) {
  const rate = one(args, "rate-interval", "1m");
  const out = [];
  if (args.dashboard) {
    for (const e of P.dashboardExprs(P.loadDashboard(one(args, "dashboard")))) out.push({ ...e, expr: P.substitute(e.expr, rate) });
  }
  for (const e of P.ruleExprs(args.rules || [])) out.push(e);
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
  return [];
}

function cmdRenderConfig(args) {
  const configFile = one(args, "config");
  const cfg = YAML.parse(fs.readFileSync(configFile, "utf8"));
  const dir = path.dirname(path.resolve(configFile));
  const interval = one(args, "scrape-interval", "1s");
  cfg.global = { ...(cfg.global || {}), scrape_interval: interval, evaluation_interval: interval };
  cfg.rule_files = (cfg.rule_files || []).map((f) => (path.isAbsolute(f) ? f : path.join(dir, f)));
  const jobs = (cfg.scrape_configs || []).filter((j) => j.job_name === "videogen");
  if (jobs.length !== 1) return [`${configFile}: expected exactly one scrape config with job_name videogen`];
  jobs[0].static_configs = [{ targets: [one(args, "target")] }];
  const out = one(args, "out");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "prometheus.yml"), YAML.stringify(cfg));
  return [];
}

// JSON with object keys sorted (kustomize reorders keys).
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function cmdSyncK8s(args) {
  const groups = P.loadRuleGroups(one(args, "rules"));
  const docs = YAML.parseAllDocuments(fs.readFileSync(one(args, "rendered"), "utf8")).map((d) => d.toJS());
  const prs = docs.filter((d) => d && d.kind === "PrometheusRule");
  if (prs.length !== 1) return [`expected one PrometheusRule in the rendered manifests, found ${prs.length}`];
  const a = canonical(prs[0].spec.groups);
  const b = canonical(groups);
  if (a !== b) {
    return [`PrometheusRule ${prs[0].metadata.name} differs from ${one(args, "rules")}; ` +
      "copy the groups over (the PrometheusRule spec.groups must equal the rule file's groups)"];
  }
  return [];
}

function cmdWriteK8sRule(args) {
  const groups = P.loadRuleGroups(one(args, "rules"));
  const doc = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "videogen", labels: { "app.kubernetes.io/name": "videogen" } },
    spec: { groups },
  };
  const header = [
    `# prometheus-operator copy of ${one(args, "rules")} (the`,
    "# source of truth, unit-tested with promtool). tests/deploy checks that",
    "# spec.groups equals that file; regenerate with",
    "#   node tests/deploy/observability.js write-k8s-rule --rules <that file> --out <this file>",
    "# Your Prometheus must select this object (ruleSelector /",
    "# ruleNamespaceSelector; kube-prometheus-stack: its release label).",
  ].join("\n");
  fs.writeFileSync(one(args, "out"), `${header}\n${YAML.stringify(doc, { lineWidth: 0 })}`);
  return [];
}

const COMMANDS = { check: cmdCheck, exprs: cmdExprs, "render-config": cmdRenderConfig, "sync-k8s": cmdSyncK8s, "write-k8s-rule": cmdWriteK8sRule };

function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!COMMANDS[cmd]) {
    process.stderr.write(`usage: observability.js ${Object.keys(COMMANDS).join("|")} ...\n`);
    return 2;
  }
  let problems;
  try {
    problems = COMMANDS[cmd](parseArgs(rest));
  } catch (err) {
    problems = [err.message];
  }
  for (const p of problems) process.stderr.write(`FAIL: ${p}\n`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
