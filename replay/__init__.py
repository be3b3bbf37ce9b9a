"""The analysts' side: the log read in global order and folded into any report
(:mod:`.reader`, :mod:`.folds`), the built-in figures, cohorts and what-if prices folded from
it, exports for DuckDB, pandas and spreadsheets, and read models rebuilt and verified
(:mod:`.verify`). See docs/analysts.md."""
