"""The report layer: reads what runs wrote and builds one self-contained HTML and a PDF (no torch, no widgets).

- ``cli``: the command line and the build (``python -m helpers.report``)
- ``runview``: a run folder as the report reads it
- ``findings``: the numbers the sentences need (comparisons with the writeup, trends)
- ``found``: what a build finds once in its runs (the studies, shared findings), for the document and the record
- ``document``: the section templates (report/sections/) rendered, figures and tables numbered by label
- ``export``: nbconvert with our template, LaTeX to MathML, the PDF through Chromium
- ``results``: the reproduction record, results/<profile>.json (every number of the results table, provenance)
- ``readme``: README's results table generated from results/full.json (``python -m helpers.report.readme``)
"""
