// Reads the PromQL expressions out of the Grafana dashboard and the Prometheus
// rule files, and checks the metric and label names they use against
// metrics_contract.json. No PromQL parser is implemented here: syntax is
// checked by promtool (static test) and by a real Prometheus (live test).
"use strict";

const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const CONTRACT = JSON.parse(fs.readFileSync(path.join(__dirname, "metrics_contract.json"), "utf8"));
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];

// Grafana variables and the value each gets when an expression is evaluated
// outside Grafana: every dashboard variable is multi-value with "All" = ".*".
const VARIABLE_VALUES = { job: ".*", pod: ".*", device: ".*" };

function loadDashboard(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

// All panels, including those nested in collapsed rows.
function panelsOf(dashboard) {
  const out = [];
  for (const p of dashboard.panels || []) {
    out.push(p);
    for (const q of p.panels || []) out.push(q);
  }
  return out;
}

// [{id, kind: "panel"|"variable", title, expr}] for every query of the dashboard.
function dashboardExprs(dashboard) {
  const out = [];
  for (const p of panelsOf(dashboard)) {
    for (const t of p.targets || []) {
      out.push({ id: `panel ${p.id} "${p.title}" ${t.refId}`, kind: "panel", expr: t.expr });
    }
  }
  for (const v of (dashboard.templating || {}).list || []) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : v.query.query;
    // label_values(selector, label) -> selector: what must return series.
    const m = /^\s*label_values\(\s*(.+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(q);
    if (!m) throw new Error(`variable ${v.name}: unsupported query "${q}" (expected label_values(selector, label))`);
    out.push({ id: `variable ${v.name}`, kind: "variable", expr: m[1], label: m[2] });
  }
  return out;
}

function loadRuleGroups(file) {
  const doc = YAML.parse(fs.readFileSync(file, "utf8"));
  if (!doc || !Array.isArray(doc.groups)) throw new Error(`${file}: no "groups" list`);
  return doc.groups;
}

// [{id, kind: "alert"|"record", expr}] for every rule of the given files.
function ruleExprs(files) {
  const out = [];
  for (const f of files) {
    for (const g of loadRuleGroups(f)) {
      for (const r of g.rules) {
        const kind = r.alert ? "alert" : "record";
        out.push({ id: `${path.basename(f)} ${g.name}/${r.alert || r.record}`, kind, expr: String(r.expr).trim() });
      }
    }
  }
  return out;
}

// Replaces the Grafana variables; rateInterval is e.g. "1m". Throws on a
// variable it does not know, so a new variable cannot slip through unchecked.
function substitute(expr, rateInterval) {
  return expr.replace(/\$\{?(__rate_interval|__interval|__range|[A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name) => {
    if (name === "__rate_interval" || name === "__interval" || name === "__range") return rateInterval;
    if (name in VARIABLE_VALUES) return VARIABLE_VALUES[name];
    throw new Error(`unknown variable ${all} in: ${expr}`);
  });
}

function stripStrings(expr) {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}

// Base metric (contract name) of a series name, or null.
function contractMetricOf(name) {
  if (CONTRACT.metrics[name]) return name;
  for (const s of HISTOGRAM_SUFFIXES) {
    if (name.endsWith(s)) {
      const base = name.slice(0, -s.length);
      if (CONTRACT.metrics[base] && CONTRACT.metrics[base].type === "histogram") return base;
    }
  }
  return null;
}

// Problems with the names one expression uses: metrics not in the contract,
// histogram base names used bare, labels no metric of the contract has.
function nameProblems(expr) {
  const problems = [];
  const s = stripStrings(expr);
  const allLabels = new Set([...CONTRACT.target_labels, "le"]);
  for (const m of Object.values(CONTRACT.metrics)) m.labels.forEach((l) => allLabels.add(l));
  for (const [, name] of s.matchAll(/\b(videogen_[a-z0-9_]+)\b/g)) {
    const base = contractMetricOf(name);
    if (!base) problems.push(`metric ${name} is not exported by videogen-server`);
    else if (CONTRACT.metrics[base].type === "histogram" && name === base)
      problems.push(`histogram ${name} has no series of that name (use _bucket, _sum or _count)`);
  }
  // Selectors: every label must belong to that metric (or be a target label).
  for (const [, name, body] of s.matchAll(/\b(videogen_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const base = contractMetricOf(name);
    if (!base) continue;
    const ok = new Set([...CONTRACT.target_labels, ...CONTRACT.metrics[base].labels]);
    if (name.endsWith("_bucket")) ok.add("le");
    for (const [, label] of body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!ok.has(label)) problems.push(`${name} has no label "${label}"`);
    }
  }
  // Label values: literal values and simple alternations must be known values.
  for (const [, name, body] of expr.matchAll(/\b(videogen_[a-z0-9_]+)\s*\{([^}]*)\}/g)) {
    const base = contractMetricOf(name);
    const known = base && CONTRACT.metrics[base].values;
    if (!known) continue;
    for (const [, label, , value] of body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) {
      if (!known[label]) continue;
      for (const v of value.split("|")) {
        if (!known[label].includes(v)) problems.push(`${name}{${label}} has no value "${v}" (known: ${known[label].join(", ")})`);
      }
    }
  }
  for (const [, , list] of s.matchAll(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const label of list.split(",").map((x) => x.trim()).filter(Boolean)) {
      if (!allLabels.has(label)) problems.push(`grouping label "${label}" is on no videogen metric`);
    }
  }
  return problems;
}

// Contract metrics that none of the expressions reads.
function unusedMetrics(exprs) {
  const used = new Set();
  for (const e of exprs) {
    for (const [, name] of stripStrings(e).matchAll(/\b(videogen_[a-z0-9_]+)\b/g)) {
      const base = contractMetricOf(name);
      if (base) used.add(base);
    }
  }
  return Object.keys(CONTRACT.metrics).filter((m) => !used.has(m));
}

module.exports = {
  CONTRACT, loadDashboard, panelsOf, dashboardExprs, loadRuleGroups, ruleExprs,
  substitute, nameProblems, unusedMetrics,
};
