"""Small helpers every group may use: argument checks, arrays, tables, figures."""
