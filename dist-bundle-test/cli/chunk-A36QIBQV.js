// dist/render/chart.js
import sharp from "sharp";
var PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#222222", "#7f3c8d", "#11a579", "#a6761d", "#e73f74", "#80ba5a", "#e68310"];
function panelsSpec(panels, title, sharedLegend = false) {
  const names = [...new Set(panels.flatMap((p) => p.series.map((s) => s.name.replace(/ \(.*$/, ""))))];
  const colorOf = (name) => PALETTE[names.indexOf(name.replace(/ \(.*$/, "")) % PALETTE.length];
  const hconcat = panels.map((p) => {
    const values = p.series.flatMap((s, si) => Array.from({ length: s.x.length }, (_, i) => ({ series: s.name, order: si, x: s.x[i], y: s.y[i], dashed: s.dashed ? 1 : 0 })));
    const seriesNames = p.series.map((s) => s.name);
    const x = p.xLabels ? { field: "x", type: "quantitative", title: p.xTitle, scale: { domain: [0, p.xLabels.length - 1], nice: false }, axis: { values: p.xLabels.map((_, i) => i), labelExpr: `${JSON.stringify(p.xLabels)}[datum.value]`, labelAngle: -40 } } : { field: "x", type: "quantitative", title: p.xTitle, ...p.xDomain ? { scale: { domain: p.xDomain, nice: false } } : {} };
    return {
      title: p.title,
      width: 300,
      height: 230,
      data: { values },
      mark: { type: "line", strokeWidth: 2, point: p.xLabels ? { size: 25 } : false },
      encoding: {
        x,
        y: { field: "y", type: "quantitative", title: p.yTitle, ...p.yDomain ? { scale: { domain: p.yDomain, nice: false } } : {} },
        color: { field: "series", type: "nominal", title: null, sort: seriesNames, scale: { domain: seriesNames, range: seriesNames.map(colorOf) }, legend: { orient: "right", labelLimit: 400, symbolStrokeWidth: 2.5, symbolType: "stroke" } },
        strokeDash: { field: "dashed", type: "nominal", scale: { domain: [0, 1], range: [[1, 0], [5, 3]] }, legend: null },
        order: { field: "order" }
      }
    };
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...title ? { title: { text: title, anchor: "start", fontSize: 15 } } : {},
    hconcat,
    resolve: { scale: sharedLegend ? { color: "shared", strokeDash: "shared" } : { color: "independent", strokeDash: "independent" } },
    padding: 16,
    config: { font: "DejaVu Sans", view: { stroke: "#ddd" }, axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" }, legend: { labelFontSize: 11 }, title: { fontSize: 13 } },
    background: "white"
  };
}
async function renderChart(spec, scale = 2) {
  const [{ parse, View }, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const vega = compile(spec).spec;
  const view = new View(parse(vega), { renderer: "none" });
  const svg = await view.toSVG();
  const scaled = await view.toSVG(scale);
  view.finalize();
  const png = await sharp(Buffer.from(scaled)).png().toBuffer();
  return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
}

export {
  panelsSpec,
  renderChart
};
