# E-values from R's EValue package, for tests/observational/test_evalue.py.
# Run: Rscript tests/reference/scripts/evalue_R.R > tests/reference/evalue_R.json
# (EValue 4.1.4 built from CRAN's source; needs jsonlite.)
suppressMessages(library(EValue))
cases <- list(
  list(est = 0.56, lo = 0.46, hi = 0.69, rare = FALSE),   # package example, protective, common
  list(est = 0.56, lo = 0.46, hi = 0.69, rare = TRUE),    # same, rare outcome
  list(est = 0.48, lo = 0.43, hi = 0.55, rare = FALSE),   # Xiao 2026 pooled PTR HR
  list(est = 0.48, lo = 0.43, hi = 0.55, rare = TRUE),
  list(est = 0.80, lo = 0.55, hi = 1.17, rare = FALSE),   # protective, CI crosses 1
  list(est = 0.80, lo = 0.55, hi = 1.17, rare = TRUE),
  list(est = 1.90, lo = 1.30, hi = 2.80, rare = FALSE),   # harmful
  list(est = 1.90, lo = 1.30, hi = 2.80, rare = TRUE),
  list(est = 1.25, lo = 0.90, hi = 1.70, rare = FALSE),   # harmful, CI crosses 1
  list(est = 1.25, lo = 0.90, hi = 1.70, rare = TRUE),
  list(est = 0.25, lo = 0.12, hi = 0.52, rare = FALSE),   # strong protective
  list(est = 1.00, lo = 0.70, hi = 1.40, rare = FALSE),   # exactly null
  list(est = 0.62, lo = NA,   hi = NA,   rare = FALSE),   # point only
  list(est = 0.62, lo = NA,   hi = 0.95, rare = TRUE)     # upper limit only
)
na <- function(x) if (is.na(x)) NULL else unname(x)
out <- lapply(cases, function(cs) {
  r <- suppressMessages(evalues.HR(cs$est, cs$lo, cs$hi, rare = cs$rare))
  list(est = cs$est, lo = na(cs$lo), hi = na(cs$hi), rare = cs$rare,
       rr = list(point = na(r[1, 1]), lower = na(r[1, 2]), upper = na(r[1, 3])),
       evalue = list(point = na(r[2, 1]), lower = na(r[2, 2]), upper = na(r[2, 3])))
})
cat(jsonlite::toJSON(list(package = paste("EValue", packageVersion("EValue")),
                          r_version = R.version.string, cases = out),
                     auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE))
cat("\n")
