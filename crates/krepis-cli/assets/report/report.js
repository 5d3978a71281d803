// The Krepis report page: reads the JSON blob the CLI wrote and draws it. Graphviz (the vendored
// WebAssembly build) lays out the layer diagram at load and a module graph only when one is
// picked, so a project of thousands of files opens as fast as a small one.
"use strict";

(() => {
  /** Modules in one module graph at most: Graphviz's layout grows much faster than linearly. */
  const MAX_NODES = 250;
  /** Findings rendered at once; "Show more" adds as many again. */
  const FINDINGS_PAGE = 200;
  /** Projects up to this many modules are drawn whole when the page opens. */
  const SMALL_PROJECT = 40;
  /** Above this many modules nothing but the layer diagram is laid out before a pick. */
  const MIDDLING_PROJECT = 1000;
  /** The smallest scale "Fit" goes to: a larger picture is shown from its top left corner. */
  const MIN_FIT_SCALE = 0.45;
  const COLORS = { violation: "#c8281e", cycle: "#d46a00", allowed: "#2c7a4b", unused: "#9bb8a6", edge: "#8a94a6" };

  performance.mark("krepis-script");
  const data = JSON.parse(document.getElementById("krepis-data").textContent);
  performance.mark("krepis-data-parsed");
  const modules = data.modules;
  // Imports come as [specifier, line, target, kind, flags] (see `Import` in report.rs).
  const KINDS = { m: "module", e: "external", o: "outside the checked files", a: "not code", u: "unresolved" };
  for (const m of modules) {
    m.imports = m.imports.map(([specifier, line, target, kind, flags]) => ({
      specifier, line, target, kind: KINDS[kind] || kind, violation: (flags & 1) !== 0, cycle: (flags & 2) !== 0,
    }));
  }
  const findings = data.findings;
  const importers = modules.map(() => []);
  modules.forEach((m, i) => {
    for (const imp of m.imports) {
      if (imp.target !== null && !importers[imp.target].includes(i)) importers[imp.target].push(i);
    }
  });

  // --- small helpers ---------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  /** An element with attributes (`on*` become listeners) and children (strings become text). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }
  const fmt = (n) => n.toLocaleString("en-US");
  const plural = (n, word) => `${fmt(n)} ${word}${n === 1 ? "" : "s"}`;
  /** A DOT string literal. */
  const q = (s) => `"${String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  const layerName = (i) => (i === null ? "outside every layer" : data.layers[i].name);
  const featureName = (i) => (i === null ? "—" : data.features[i].name);
  const shortName = (path) => path.split("/").slice(-2).join("/");

  // --- Graphviz, from the inline module (see report.html) -------------------------------------
  /** The Graphviz instance the page's first script started loading. */
  const graphviz = () => window.krepisGraphviz;

  // --- summary ---------------------------------------------------------------------------------
  function renderSummary() {
    const s = data.summary;
    const tiles = [
      ["files", data.files_checked, "files checked", ""],
      ["errors", s.errors, "errors", s.errors ? "error" : ""],
      ["warnings", s.warnings, "warnings", s.warnings ? "warning" : ""],
      ["infos", s.infos, "infos", ""],
      ["baselined", s.baselined, "baselined", ""],
      ["cycles", s.cycles, "import cycles", s.cycles ? "cycle" : ""],
      ["layers", data.layers.length, "layers", ""],
      ["features", data.features.length, "features", ""],
      ["imports", s.imports, "module imports", ""],
    ];
    $("summary").replaceChildren(
      ...tiles.map(([key, value, label, cls]) =>
        h("div", { class: `tile ${cls}`, dataset: { count: key, value } }, h("span", { class: "value" }, fmt(value)), h("span", { class: "label" }, label)),
      ),
    );
    $("project").textContent = data.project;
    $("footer").textContent = `${data.tool} · ${plural(modules.length, "module")} · ${plural(findings.length, "finding")} (${fmt(s.baselined)} baselined)`;
  }

  // --- the layer diagram -----------------------------------------------------------------------
  function layerDot() {
    const lines = [
      "digraph layers {",
      '  graph [rankdir=TB, nodesep=0.6, ranksep=0.7, bgcolor="transparent", fontname="Helvetica"];',
      '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#5b7bb8", fontname="Helvetica", fontsize=13, margin="0.25,0.12"];',
      '  edge [fontname="Helvetica", fontsize=11, arrowsize=0.8];',
    ];
    data.layers.forEach((layer, i) => {
      const bad = layer.findings > 0;
      const label = `${layer.name}\n${plural(layer.files, "file")} · ${plural(layer.findings, "finding")}`;
      lines.push(`  l${i} [id=${q(`layer-${i}`)}, label=${q(label)}, tooltip=${q(`${layer.name}: click for its modules`)}${bad ? ', color="#c8281e", penwidth=1.6' : ""}];`);
    });
    const index = new Map(data.layers.map((l, i) => [l.name, i]));
    data.layer_edges.forEach((e, k) => {
      const a = index.get(e.from);
      const b = index.get(e.to);
      if (a === undefined || b === undefined) return;
      let attrs;
      if (!e.allowed) {
        const n = e.violations || e.imports;
        attrs = `color=${q(COLORS.violation)}, fontcolor=${q(COLORS.violation)}, penwidth=2.6, constraint=false, label=${q(` ${plural(n, "violation")} `)}, class="violation"`;
      } else if (e.imports === 0) {
        attrs = `color=${q(COLORS.unused)}, style=dashed, tooltip="allowed, unused"`;
      } else {
        attrs = `color=${q(COLORS.allowed)}, fontcolor=${q(COLORS.allowed)}, label=${q(` ${fmt(e.imports)} `)}, tooltip=${q(`${fmt(e.imports)} allowed imports`)}`;
      }
      lines.push(`  l${a} -> l${b} [id=${q(`layer-edge-${k}`)}, ${attrs}];`);
    });
    lines.push("}");
    return lines.join("\n");
  }

  async function renderLayerDiagram() {
    const target = $("layer-diagram");
    if (data.layers.length === 0) {
      target.replaceChildren(h("p", { class: "muted" }, "No layers are configured."));
      return;
    }
    const gv = await graphviz();
    target.innerHTML = await gv.dot(layerDot());
    target.querySelectorAll("g.node").forEach((node) => {
      const i = Number(node.id.replace("layer-", ""));
      node.addEventListener("click", () => selectAndShow(`layer:${i}`));
    });
    target.querySelectorAll("g.edge").forEach((edge) => {
      const k = Number(edge.id.replace("layer-edge-", ""));
      if (!data.layer_edges[k].allowed) edge.addEventListener("click", () => showLayerEdge(k));
    });
  }

  function showLayerEdge(k) {
    const e = data.layer_edges[k];
    const from = data.layers.findIndex((l) => l.name === e.from);
    const to = data.layers.findIndex((l) => l.name === e.to);
    const rows = [];
    modules.forEach((m, i) => {
      if (m.layer !== from) return;
      for (const imp of m.imports) {
        if (imp.violation && imp.target !== null && modules[imp.target].layer === to) rows.push([i, imp]);
      }
    });
    $("layer-edge-details").replaceChildren(
      h("h3", {}, `${e.from} → ${e.to}: not allowed (${plural(rows.length, "import")})`),
      h("ul", { class: "imports" }, rows.slice(0, 500).map(([i, imp]) =>
        h("li", { class: "violation" },
          h("button", { class: "linkish", type: "button", onclick: () => focusModule(i) }, modules[i].path),
          `:${imp.line} imports "${imp.specifier}" → ${modules[imp.target].path}`))),
      rows.length > 500 ? h("p", { class: "muted" }, `… and ${fmt(rows.length - 500)} more`) : null,
    );
  }

  // --- the module graph ------------------------------------------------------------------------
  const view = { scale: 1, x: 0, y: 0, svg: null, width: 0, height: 0, drawn: new Set(), selected: null };

  function selectionOptions() {
    const select = $("selection");
    const options = [h("option", { value: "" }, "— pick —")];
    if (modules.length) options.push(h("option", { value: "all" }, `All modules (${fmt(modules.length)})`));
    data.layers.forEach((l, i) => options.push(h("option", { value: `layer:${i}` }, `Layer ${l.name} (${fmt(l.files)})`)));
    const outside = modules.filter((m) => m.layer === null).length;
    if (outside && data.layers.length) options.push(h("option", { value: "outside" }, `Outside every layer (${fmt(outside)})`));
    data.features.forEach((f, i) => options.push(h("option", { value: `feature:${i}` }, `Feature ${f.name} (${fmt(f.files)})`)));
    data.cycles.slice(0, 300).forEach((c, i) => options.push(h("option", { value: `cycle:${i}` }, `Cycle ${i + 1} (${fmt(c.modules.length)} modules)`)));
    select.replaceChildren(...options);
    select.addEventListener("change", () => select.value && showSelection(select.value));
  }

  function membersOf(key) {
    const [kind, n] = key.split(":");
    const i = Number(n);
    switch (kind) {
      case "all": return { title: "All modules", members: modules.map((_, m) => m), cluster: "layer" };
      case "outside": return { title: "Modules outside every layer", members: modules.flatMap((m, k) => (m.layer === null ? [k] : [])), cluster: "none" };
      case "layer": return { title: `Layer ${data.layers[i].name}`, members: modules.flatMap((m, k) => (m.layer === i ? [k] : [])), cluster: "feature" };
      case "feature": return { title: `Feature ${data.features[i].name}`, members: modules.flatMap((m, k) => (m.feature === i ? [k] : [])), cluster: "layer" };
      case "cycle": return { title: `Cycle ${i + 1}`, members: data.cycles[i].modules.slice(), cluster: "layer" };
      case "around": {
        const set = new Set([i, ...importers[i]]);
        for (const imp of modules[i].imports) if (imp.target !== null) set.add(imp.target);
        return { title: `${modules[i].path} with its imports and importers`, members: [...set], cluster: "layer" };
      }
      default: return { title: "", members: [], cluster: "none" };
    }
  }

  /** The members to draw: all of them, or those with findings first, then the most connected. */
  function capped(members, keep) {
    if (members.length <= MAX_NODES) return members;
    const inside = new Set(members);
    const score = (m) => {
      let degree = 0;
      for (const imp of modules[m].imports) if (imp.target !== null && inside.has(imp.target)) degree++;
      for (const k of importers[m]) if (inside.has(k)) degree++;
      return (m === keep ? 1e9 : 0) + modules[m].findings.length * 1e4 + degree;
    };
    return members.map((m) => [score(m), m]).sort((a, b) => b[0] - a[0]).slice(0, MAX_NODES).map(([, m]) => m);
  }

  function moduleDot(members, cluster) {
    const inside = new Set(members);
    const lines = [
      "digraph modules {",
      '  graph [rankdir=LR, nodesep=0.25, ranksep=0.9, bgcolor="transparent", fontname="Helvetica", fontsize=12, style="rounded,filled", fillcolor="#f2f5fb", color="#c8d2e4"];',
      '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#7d8aa6", fontname="Helvetica", fontsize=10, height=0.3];',
      '  edge [color="#8a94a6", arrowsize=0.6];',
    ];
    const node = (m) => {
      const mod = modules[m];
      const open = mod.findings.filter((f) => !findings[f].baselined).length;
      const extra = open ? ', fillcolor="#ffe3e0", color="#c8281e"' : "";
      return `    m${m} [id=${q(`m${m}`)}, label=${q(shortName(mod.path))}, tooltip=${q(mod.path)}${extra}];`;
    };
    const groupOf = (m) => (cluster === "layer" ? modules[m].layer : cluster === "feature" ? modules[m].feature : null);
    const groups = new Map();
    for (const m of members) {
      const g = groupOf(m);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g).push(m);
    }
    let c = 0;
    for (const [g, list] of groups) {
      if (g === null || cluster === "none") {
        lines.push(...list.map(node));
        continue;
      }
      const name = cluster === "layer" ? layerName(g) : featureName(g);
      lines.push(`  subgraph cluster_${c++} {`, `    label=${q(name)};`, ...list.map(node), "  }");
    }
    for (const m of members) {
      const seen = new Set();
      for (const imp of modules[m].imports) {
        const t = imp.target;
        if (t === null || !inside.has(t) || seen.has(t)) continue;
        seen.add(t);
        const attrs = imp.violation
          ? ` [color=${q(COLORS.violation)}, penwidth=2.2]`
          : imp.cycle ? ` [color=${q(COLORS.cycle)}, penwidth=1.6]` : "";
        lines.push(`  m${m} -> m${t}${attrs};`);
      }
    }
    lines.push("}");
    return lines.join("\n");
  }

  function selectAndShow(key, focus) {
    $("selection").value = [...$("selection").options].some((o) => o.value === key) ? key : "";
    showSelection(key, focus);
    $("modules").scrollIntoView({ behavior: "instant", block: "start" });
  }

  async function showSelection(key, focus) {
    const { title, members, cluster } = membersOf(key);
    const drawn = capped(members, focus);
    const note = $("graph-note");
    if (drawn.length < members.length) {
      note.hidden = false;
      note.textContent = `${title} has ${fmt(members.length)} modules; a picture of that many explains nothing, so this one shows ${fmt(drawn.length)}: those with findings first, then the most connected. Pick a feature, or search, to see the others.`;
    } else {
      note.hidden = true;
    }
    const viewport = $("module-graph");
    if (!drawn.length) {
      viewport.replaceChildren(h("p", { class: "muted" }, `${title}: no modules.`));
      return;
    }
    viewport.replaceChildren(h("p", { class: "muted" }, `Laying out ${plural(drawn.length, "module")}…`));
    const gv = await graphviz();
    viewport.innerHTML = await gv.dot(moduleDot(drawn, cluster));
    const svg = viewport.querySelector("svg");
    const box = svg.viewBox.baseVal;
    view.width = box.width;
    view.height = box.height;
    svg.setAttribute("width", String(box.width));
    svg.setAttribute("height", String(box.height));
    view.svg = svg;
    view.drawn = new Set(drawn);
    svg.querySelectorAll("g.node").forEach((n) => {
      const m = Number(n.id.slice(1));
      n.addEventListener("click", (event) => {
        event.stopPropagation();
        showModule(m);
      });
    });
    viewport.dataset.modules = String(drawn.length);
    viewport.dataset.selection = key;
    fit();
    if (focus !== undefined) showModule(focus);
    else if (view.selected !== null && !view.drawn.has(view.selected)) clearDetails();
    applySearch();
  }

  function applyTransform() {
    if (view.svg) view.svg.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  }
  /** Fits the picture in the viewport, but never so small that its labels cannot be read. */
  function fit() {
    const vp = $("module-graph");
    if (!view.svg) return;
    const whole = Math.min(vp.clientWidth / view.width, vp.clientHeight / view.height, 1.5);
    const s = Math.max(whole, MIN_FIT_SCALE);
    view.scale = s;
    view.x = Math.max((vp.clientWidth - view.width * s) / 2, 0);
    view.y = Math.max((vp.clientHeight - view.height * s) / 2, 0);
    applyTransform();
  }
  function zoomAt(factor, cx, cy) {
    const s = Math.max(0.05, Math.min(8, view.scale * factor));
    view.x = cx - ((cx - view.x) * s) / view.scale;
    view.y = cy - ((cy - view.y) * s) / view.scale;
    view.scale = s;
    applyTransform();
  }
  function centreOn(m) {
    const node = view.svg && view.svg.querySelector(`#m${m}`);
    if (!node) return;
    const vp = $("module-graph");
    const b = node.getBBox();
    // Graphviz puts the drawing in a group translated by the margin; the bbox is in its space.
    const g = view.svg.querySelector("g.graph");
    const t = g && g.transform.baseVal.consolidate();
    const ox = t ? t.matrix.e : 0;
    const oy = t ? t.matrix.f : 0;
    const scale = Math.max(view.scale, 0.8);
    view.scale = scale;
    view.x = vp.clientWidth / 2 - (b.x + ox + b.width / 2) * scale;
    view.y = vp.clientHeight / 2 - (b.y + oy + b.height / 2) * scale;
    applyTransform();
  }

  function wireViewport() {
    const vp = $("module-graph");
    let drag = null;
    vp.addEventListener("wheel", (event) => {
      if (!view.svg) return;
      event.preventDefault();
      const r = vp.getBoundingClientRect();
      zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - r.left, event.clientY - r.top);
    }, { passive: false });
    vp.addEventListener("pointerdown", (event) => {
      if (!view.svg || event.target.closest("g.node")) return;
      drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y };
      vp.classList.add("dragging");
      vp.setPointerCapture(event.pointerId);
    });
    vp.addEventListener("pointermove", (event) => {
      if (!drag) return;
      view.x = drag.vx + event.clientX - drag.x;
      view.y = drag.vy + event.clientY - drag.y;
      applyTransform();
    });
    const stop = () => {
      drag = null;
      vp.classList.remove("dragging");
    };
    vp.addEventListener("pointerup", stop);
    vp.addEventListener("pointercancel", stop);
    const centre = () => [vp.clientWidth / 2, vp.clientHeight / 2];
    $("zoom-in").addEventListener("click", () => zoomAt(1.3, ...centre()));
    $("zoom-out").addEventListener("click", () => zoomAt(1 / 1.3, ...centre()));
    $("zoom-fit").addEventListener("click", fit);
    $("search").addEventListener("input", applySearch);
    $("search").addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const hits = searchHits();
      const drawnHit = hits.find((m) => view.drawn.has(m));
      if (drawnHit !== undefined) {
        centreOn(drawnHit);
        showModule(drawnHit);
      } else if (hits.length) {
        showSelection(`around:${hits[0]}`, hits[0]);
      }
    });
  }

  function searchHits() {
    const text = $("search").value.trim().toLowerCase();
    if (!text) return [];
    const hits = [];
    for (let m = 0; m < modules.length && hits.length < 200; m++) if (modules[m].path.toLowerCase().includes(text)) hits.push(m);
    return hits;
  }

  function applySearch() {
    const hits = searchHits();
    const result = $("search-result");
    if (view.svg) view.svg.querySelectorAll("g.node.match").forEach((n) => n.classList.remove("match"));
    if (!$("search").value.trim()) {
      result.textContent = "";
      return;
    }
    let shown = 0;
    for (const m of hits) {
      const n = view.svg && view.svg.querySelector(`#m${m}`);
      if (n) {
        n.classList.add("match");
        shown++;
      }
    }
    const more = hits.length - shown;
    result.replaceChildren(`${fmt(shown)} in the picture`);
    if (more > 0) {
      result.append(`, ${more >= 200 - shown ? "many" : fmt(more)} elsewhere: `);
      for (const m of hits.filter((k) => !view.drawn.has(k)).slice(0, 5)) {
        result.append(h("button", { class: "linkish", type: "button", onclick: () => showSelection(`around:${m}`, m) }, shortName(modules[m].path)), " ");
      }
    }
  }

  // --- one module ------------------------------------------------------------------------------
  function clearDetails() {
    view.selected = null;
    const details = $("module-details");
    delete details.dataset.module;
    details.replaceChildren(h("p", { class: "muted" }, "Click a module to see its imports and findings."));
  }

  function focusModule(m) {
    if (view.drawn.has(m)) {
      centreOn(m);
      showModule(m);
      $("modules").scrollIntoView({ behavior: "instant", block: "start" });
    } else {
      selectAndShow(`around:${m}`, m);
    }
  }

  function importRow(imp) {
    const target = imp.target !== null ? modules[imp.target].path : null;
    const cls = imp.violation ? "violation" : imp.cycle ? "cycle" : "";
    return h("li", { class: cls, dataset: { specifier: imp.specifier } },
      `:${imp.line} "${imp.specifier}"`,
      target !== null
        ? [" → ", h("button", { class: "linkish", type: "button", onclick: () => focusModule(imp.target) }, target)]
        : h("span", { class: "kind" }, ` (${imp.kind})`),
      imp.violation ? h("span", { class: "kind" }, " — not allowed") : null,
      imp.cycle && !imp.violation ? h("span", { class: "kind" }, " — in a cycle") : null);
  }

  function showModule(m) {
    const mod = modules[m];
    if (view.svg) {
      view.svg.querySelectorAll("g.node.selected").forEach((n) => n.classList.remove("selected"));
      const n = view.svg.querySelector(`#m${m}`);
      if (n) n.classList.add("selected");
    }
    view.selected = m;
    const details = $("module-details");
    details.dataset.module = String(m);
    details.replaceChildren(
      h("div", { class: "path" }, mod.path),
      h("div", { class: "muted" }, `layer: ${layerName(mod.layer)} · feature: ${featureName(mod.feature)}`),
      h("button", { type: "button", onclick: () => showSelection(`around:${m}`, m) }, "Show its neighbourhood"),
      h("h4", {}, `Findings (${fmt(mod.findings.length)})`),
      mod.findings.length
        ? h("ol", { class: "findings" }, mod.findings.map((f) => findingItem(f, true)))
        : h("p", { class: "muted" }, "None."),
      h("h4", {}, `Imports (${fmt(mod.imports.length)})`),
      mod.imports.length ? h("ul", { class: "imports module-imports" }, mod.imports.map(importRow)) : h("p", { class: "muted" }, "None."),
      h("h4", {}, `Imported by (${fmt(importers[m].length)})`),
      importers[m].length
        ? h("ul", { class: "imports" }, importers[m].map((k) => h("li", {}, h("button", { class: "linkish", type: "button", onclick: () => focusModule(k) }, modules[k].path))))
        : h("p", { class: "muted" }, "No checked module."),
    );
  }

  // --- cycles ----------------------------------------------------------------------------------
  function renderCycles() {
    const list = $("cycle-list");
    if (!data.cycles.length) {
      list.replaceChildren(h("p", { class: "muted" }, "No import cycles."));
      return;
    }
    list.replaceChildren(
      h("p", { class: "hint" }, `Each entry is a strongly connected set: every module in it reaches every other through imports. ${plural(data.cycles.length, "cycle")}.`),
      h("ol", { class: "cycles" }, data.cycles.map((c, i) => {
        const f = c.finding !== null ? findings[c.finding] : null;
        return h("li", { dataset: { cycle: i, size: c.modules.length } },
          h("strong", {}, `Cycle ${i + 1}: ${plural(c.modules.length, "module")}, ${plural(c.imports, "import")} between them `),
          h("button", { type: "button", onclick: () => selectAndShow(`cycle:${i}`) }, "Show in graph"),
          f ? h("div", { class: "muted" }, `${f.baselined ? "baselined" : f.severity}: ${f.message}`) : null,
          h("ul", { class: "members" }, c.modules.slice(0, 40).map((m) => h("li", {}, modules[m].path)),
            c.modules.length > 40 ? h("li", { class: "muted" }, `… and ${fmt(c.modules.length - 40)} more`) : null));
      })),
    );
  }

  // --- metrics ---------------------------------------------------------------------------------
  function metricsTable(groups, kind) {
    if (!groups.length) return h("p", { class: "muted" }, kind === "layer" ? "No layers are configured." : "No features: no layer pattern captures a folder, and no layer folder sits in one.");
    return h("table", { class: "metrics", dataset: { kind } },
      h("thead", {}, h("tr", {}, ["name", "files", "findings", "baselined", "Ca", "Ce", "instability"].map((t) => h("th", {}, t)))),
      h("tbody", {}, groups.map((g, i) => h("tr", { dataset: { name: g.name, files: g.files, findings: g.findings } },
        h("td", {}, h("button", { class: "linkish", type: "button", onclick: () => selectAndShow(`${kind}:${i}`) }, g.name)),
        h("td", {}, fmt(g.files)),
        h("td", { class: g.findings ? "bad" : "" }, fmt(g.findings)),
        h("td", {}, fmt(g.baselined)),
        h("td", {}, fmt(g.afferent)),
        h("td", {}, fmt(g.efferent)),
        h("td", {}, g.instability === null ? "—" : [g.instability.toFixed(2), h("span", { class: "bar", style: `width:${Math.round(g.instability * 60)}px` })]),
      ))));
  }

  // --- findings --------------------------------------------------------------------------------
  function renderRuleCounts() {
    if (!data.rules.length) {
      $("rule-counts").replaceChildren(h("p", { class: "muted" }, "No findings."));
      return;
    }
    $("rule-counts").replaceChildren(h("table", { class: "metrics count-table" },
      h("thead", {}, h("tr", {}, ["rule", "severity", "new", "baselined"].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.rules.map((r) => h("tr", { dataset: { rule: r.rule, severity: r.severity, new: r.new, baselined: r.baselined } },
        h("td", {}, r.rule), h("td", {}, r.severity), h("td", { class: r.new ? "bad num" : "num" }, fmt(r.new)), h("td", { class: "num" }, fmt(r.baselined)))))));
  }

  function codeFrame(f) {
    const pre = h("pre", { class: "frame" });
    f.frame.lines.forEach((text, k) => {
      const n = f.frame.first_line + k;
      const line = h("div", {}, h("span", { class: "ln" }, n));
      if (n < f.line || n > f.end_line) {
        line.append(text);
      } else {
        const from = n === f.line ? f.column - 1 : 0;
        const to = n === f.end_line ? Math.max(f.end_column - 1, from + (f.end_line === f.line && f.end_column <= f.column ? 1 : 0)) : text.length;
        line.append(text.slice(0, from), h("span", { class: "hl" }, text.slice(from, to) || " "), text.slice(to));
      }
      pre.append(line);
    });
    return pre;
  }

  function findingBody(k) {
    const f = findings[k];
    const imp = f.module !== null && f.import !== null ? modules[f.module].imports[f.import] : null;
    return [
      f.note ? h("div", { class: "muted" }, f.note) : null,
      imp ? h("div", { class: "import", dataset: { specifier: imp.specifier, target: imp.target !== null ? modules[imp.target].path : "" } },
        `import "${imp.specifier}"`, imp.target !== null ? ` → ${modules[imp.target].path}` : ` (${imp.kind})`,
        imp.target !== null && modules[imp.target].layer !== null ? ` (layer ${layerName(modules[imp.target].layer)})` : "") : null,
      codeFrame(f),
      f.fix ? h("div", { class: "muted" }, `fix: ${f.fix} (krepis fix)`) : null,
      f.module !== null ? h("button", { type: "button", onclick: (e) => { e.stopPropagation(); focusModule(f.module); } }, "Show the module in the graph") : null,
    ];
  }

  function findingItem(k, compact) {
    const f = findings[k];
    const body = h("div", { class: "body", hidden: true });
    const item = h("li", { class: `finding ${f.severity}${f.baselined ? " baselined" : ""}`, dataset: { finding: k, rule: f.rule } },
      h("div", { class: "head" },
        h("span", { class: "sev" }, f.severity),
        h("span", { class: "msg" }, f.message),
        h("span", { class: "rule" }, f.rule),
        compact ? null : h("span", { class: "where" }, `${f.file}:${f.line}:${f.column}`),
        h("span", { class: `badge ${f.baselined ? "" : "new"}` }, f.baselined ? "baselined" : "new")),
      body);
    item.addEventListener("click", (event) => {
      if (event.target.closest("button")) return;
      if (body.hidden && !body.childNodes.length) body.append(...findingBody(k).filter(Boolean));
      body.hidden = !body.hidden;
      item.classList.toggle("open", !body.hidden);
    });
    return item;
  }

  const list = { matching: [], shown: 0 };
  function renderFindingFilters() {
    const rules = [...new Set(findings.map((f) => f.rule))].sort();
    const severities = [...new Set(findings.map((f) => f.severity))];
    $("filter-rule").replaceChildren(h("option", { value: "" }, "all"), ...rules.map((r) => h("option", { value: r }, r)));
    $("filter-severity").replaceChildren(h("option", { value: "" }, "all"), ...severities.map((s) => h("option", { value: s }, s)));
    for (const id of ["filter-rule", "filter-severity", "filter-status"]) $(id).addEventListener("change", filterFindings);
    $("more-findings").addEventListener("click", showMoreFindings);
  }
  function filterFindings() {
    const rule = $("filter-rule").value;
    const severity = $("filter-severity").value;
    const status = $("filter-status").value;
    list.matching = [];
    findings.forEach((f, k) => {
      if (rule && f.rule !== rule) return;
      if (severity && f.severity !== severity) return;
      if (status && (status === "baselined") !== f.baselined) return;
      list.matching.push(k);
    });
    list.shown = 0;
    $("finding-list").replaceChildren();
    showMoreFindings();
  }
  function showMoreFindings() {
    const next = list.matching.slice(list.shown, list.shown + FINDINGS_PAGE);
    $("finding-list").append(...next.map((k) => findingItem(k, false)));
    list.shown += next.length;
    $("more-findings").hidden = list.shown >= list.matching.length;
    $("finding-count").textContent = `${fmt(list.matching.length)} shown of ${fmt(findings.length)}`;
  }

  // --- start -----------------------------------------------------------------------------------
  async function start() {
    const loading = graphviz();
    renderSummary();
    selectionOptions();
    wireViewport();
    renderRuleCounts();
    renderFindingFilters();
    filterFindings();
    renderCycles();
    $("layer-metrics").replaceChildren(metricsTable(data.layers, "layer"));
    $("feature-metrics").replaceChildren(metricsTable(data.features, "feature"));
    performance.mark("krepis-page-built");
    await loading;
    await renderLayerDiagram();
    window.krepisRenderedAt = performance.now();
    document.documentElement.dataset.krepisReady = "1";
    // A small project is drawn whole straight away, a middling one by its feature with the most
    // findings; a large one waits for a pick.
    const first = firstPicture();
    if (first) {
      $("selection").value = first;
      await showSelection(first);
    }
  }

  function firstPicture() {
    if (!modules.length) return null;
    if (modules.length <= SMALL_PROJECT) return "all";
    if (modules.length > MIDDLING_PROJECT) return null;
    let best = -1;
    data.features.forEach((f, i) => {
      if (f.files > MAX_NODES) return;
      if (best < 0 || f.findings > data.features[best].findings) best = i;
    });
    return best >= 0 ? `feature:${best}` : null;
  }
  start().catch((error) => {
    document.documentElement.dataset.krepisError = String(error && error.message || error);
    $("layer-diagram").replaceChildren(h("p", { class: "note" }, `The report could not be drawn: ${error && error.message || error}`));
    console.error(error);
  });
})();
