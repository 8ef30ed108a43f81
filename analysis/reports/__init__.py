"""Reports: self-contained HTML pages with tables and embedded figures for the robustness and memory analyses.

In: the ``results.json`` / ``analysis.json`` dicts. Out: ``report.html`` and PNG plots.
"""
