"""The benchmark harness: `python -m benchmarks --list` shows the studies.

Shared by every study: `data` (each dataset loaded one way), `methods` (one
registry of initialization methods), `training` (one supervised loop),
`statistics` (t-based intervals, sample sd), `reports` (results.json, the
report, figures) and `study` (the base class and the loop that runs it).
Each study is one module in `studies/`.
"""
