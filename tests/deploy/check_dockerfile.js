#!/usr/bin/env node
// The Dockerfile's contract (deploy/README.md), on top of the linter:
// multi-stage; builds run scripts/bootstrap; each runtime stage (runtime,
// cuda-runtime) runs as a non-root user, exposes gRPC and metrics, declares
// /models as a volume, has a HEALTHCHECK and the entrypoint; the CUDA stages
// take the LibTorch version and download as build args.
//   check_dockerfile.js Dockerfile
"use strict";
const fs = require("fs");
const { DockerfileParser } = require("dockerfile-ast");

const file = process.argv[2] || "Dockerfile";
const df = DockerfileParser.parse(fs.readFileSync(file, "utf8"));
const problems = [];

// Stage name -> instructions [{kw, args}]
const stages = new Map();
let current = null;
for (const ins of df.getInstructions()) {
  const kw = ins.getKeyword();
  const args = ins.getArgumentsContent() || "";
  if (kw === "FROM") {
    const m = /\bAS\s+([A-Za-z0-9_.-]+)\s*$/i.exec(args);
    current = m ? m[1] : `#${stages.size}`;
    stages.set(current, { base: args.split(/\s+/)[0], ins: [] });
    continue;
  }
  if (current) stages.get(current).ins.push({ kw, args });
}

const need = (stage, cond, msg) => { if (!cond) problems.push(`stage ${stage}: ${msg}`); };
for (const name of ["build", "runtime", "cuda-build", "cuda-runtime"]) {
  need(name, stages.has(name), "missing");
}
for (const name of ["build", "cuda-build"]) {
  const s = stages.get(name);
  if (!s) continue;
  need(name, s.ins.some((i) => i.kw === "RUN" && /scripts\/bootstrap/.test(i.args)), "does not run scripts/bootstrap");
}
if (stages.has("build")) need("build", /^debian:/.test(stages.get("build").base), "must build from debian");
const cudaArgs = new Set([...(stages.get("cuda-build") || { ins: [] }).ins].filter((i) => i.kw === "ARG").map((i) => i.args.split("=")[0]));
for (const a of ["LIBTORCH_VERSION", "LIBTORCH_CUDA", "LIBTORCH_URL"]) need("cuda-build", cudaArgs.has(a), `build arg ${a} missing`);
if (stages.has("cuda-runtime")) need("cuda-runtime", /^nvidia\/cuda:.*-runtime-/.test(stages.get("cuda-runtime").base), "must start from an nvidia/cuda runtime image");
if (stages.has("runtime")) need("runtime", /-slim$/.test(stages.get("runtime").base), "must start from a slim image");

for (const name of ["runtime", "cuda-runtime"]) {
  const s = stages.get(name);
  if (!s) continue;
  const last = (kw) => [...s.ins].reverse().find((i) => i.kw === kw);
  const user = last("USER");
  need(name, user && !/^(root|0)(:|$)/.test(user.args), "must end with a non-root USER");
  const expose = s.ins.filter((i) => i.kw === "EXPOSE").map((i) => i.args).join(" ").split(/\s+/);
  need(name, expose.includes("50051") && expose.includes("9090"), "must EXPOSE 50051 and 9090");
  need(name, s.ins.some((i) => i.kw === "VOLUME" && /\/models/.test(i.args)), "must declare the /models VOLUME");
  const hc = last("HEALTHCHECK");
  need(name, hc && /healthcheck\.sh|videogen"?,?\s*"?health/.test(hc.args), "HEALTHCHECK must use the CLI's health command");
  const ep = last("ENTRYPOINT");
  need(name, ep && /entrypoint\.sh/.test(ep.args), "ENTRYPOINT must be the entrypoint script");
  need(name, !s.ins.some((i) => i.kw === "RUN" && /apt-get install/.test(i.args) && !/rm -rf \/var\/lib\/apt\/lists/.test(i.args)),
    "apt lists must be removed in the same RUN as apt-get install");
}

for (const p of problems) process.stderr.write(`FAIL: ${p}\n`);
if (!problems.length) process.stdout.write(`${file}: ${stages.size} stages (${[...stages.keys()].join(", ")}) meet the contract\n`);
process.exitCode = problems.length ? 1 : 0;
