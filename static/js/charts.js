/* Draws every chart on the page with ECharts from the data the page carries in a json_script
   element (the id is in the chart's data-chart attribute), so no inline script is needed (CSP).
   The same figures are printed in the table beside each chart. */
(function () {
  "use strict";
  if (typeof echarts === "undefined") { return; }

  function option(spec) {
    var series = spec.series.map(function (s) {
      var item = {
        name: s.name,
        type: spec.kind === "line" ? "line" : "bar",
        data: s.data,
        emphasis: { focus: "series" }
      };
      if (s.color) { item.itemStyle = { color: s.color }; item.lineStyle = { color: s.color }; }
      if (spec.stack) { item.stack = "total"; }
      return item;
    });
    if (spec.band && series.length) {
      series[0].markArea = {
        silent: true,
        itemStyle: { color: "rgba(25, 135, 84, 0.15)" },
        label: { show: true, position: "insideTop", color: "#146c43", formatter: spec.band.label },
        data: [[{ xAxis: spec.band.start }, { xAxis: spec.band.end }]]
      };
    }
    if (spec.mark && series.length) {
      series[0].markPoint = {
        symbol: "pin",
        symbolSize: 44,
        itemStyle: { color: "#ffc107" },
        label: { color: "#000", fontSize: 10, formatter: spec.mark.label },
        data: [{ coord: [spec.mark.category, spec.series[0].data[spec.mark.index]], value: spec.mark.label }]
      };
    }
    return {
      animation: false,
      aria: { enabled: true },
      // Rendered inside the canvas: an HTML tooltip would carry inline styles the CSP refuses.
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { show: spec.series.length > 1, top: 0 },
      grid: { left: 8, right: 32, top: spec.series.length > 1 ? 40 : 32, bottom: 8, containLabel: true },
      // The axis is named in the table's header beside the chart; long names (街办) lean so all can be read.
      xAxis: {
        type: "category",
        data: spec.categories,
        axisLabel: {
          interval: spec.kind === "bar" && spec.categories.length <= 12 ? 0 : "auto",
          rotate: spec.categories.length > 5 ? 30 : 0,
          hideOverlap: true
        },
        boundaryGap: spec.kind !== "line"
      },
      yAxis: { type: "value", name: spec.y_label, minInterval: 1 },
      series: series
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(JSON.parse(source.textContent)));
    el.setAttribute("data-chart-ready", "1");
    charts.push(chart);
  });
  function resize() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resize);
  // Paper is narrower than the screen: redraw for print and back.
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
})();
