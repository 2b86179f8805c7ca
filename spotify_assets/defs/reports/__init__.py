"""The listening report: one self-contained HTML file (and a PNG of its main heatmap) from the published marts."""
