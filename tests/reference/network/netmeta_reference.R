# Frequentist reference for bayesnet's network meta-analysis (tests/network/test_reference.py).
# Usage: Rscript netmeta_reference.R INPUT.csv OUTPUT.json
# INPUT: contrast rows, one per arm (study, treatment, log_hr, se; the baseline arm of a study
# has an empty log_hr and in se the SE of its own log hazard = the covariance of the study's
# contrasts). Every pair of arms of a study is written out for netmeta (pairwise contrasts of a
# multi-arm study: y_a - y_b with variance se_a^2 + se_b^2 - 2 se_0^2), which netmeta's
# multi-arm correction (Ruecker 2012, Res Synth Methods 3:312-24) turns back into the
# study's covariance.
# Made with netmeta 2.9-0, meta 6.5-0, metafor (Debian r-cran-metafor), R 4.2 (Debian).
suppressPackageStartupMessages({library(netmeta); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(study = "character", treatment = "character"))
rows <- list()
for (s in unique(d$study)) {
  x <- d[d$study == s, ]
  base <- which(is.na(x$log_hr))
  v0 <- if (nrow(x) > 2) x$se[base]^2 else 0
  eff <- ifelse(is.na(x$log_hr), 0, x$log_hr)
  var <- ifelse(is.na(x$log_hr), 0, x$se^2 - v0)   # arm-level variance beyond the shared part
  for (i in 1:(nrow(x) - 1)) for (j in (i + 1):nrow(x)) {
    vi <- if (i == base) v0 else var[i] + v0
    vj <- if (j == base) v0 else var[j] + v0
    # Var(y_i - y_j) with y_base = 0: se_i^2 + se_j^2 - 2 v0 (baseline: 0 variance, 0 covariance)
    vij <- (if (i == base) 0 else x$se[i]^2) + (if (j == base) 0 else x$se[j]^2) -
      (if (i != base && j != base) 2 * v0 else 0)
    rows[[length(rows) + 1]] <- data.frame(studlab = s, treat1 = x$treatment[i], treat2 = x$treatment[j],
                                           TE = eff[i] - eff[j], seTE = sqrt(vij))
  }
}
p <- do.call(rbind, rows)
ref <- sort(unique(d$treatment))[1]
nm <- netmeta(TE, seTE, treat1, treat2, studlab, data = p, sm = "MD", reference.group = ref,
              method.tau = "REML", common = TRUE, random = TRUE)
ns <- netsplit(nm)
out <- list(
  treatments = rownames(nm$TE.common), reference = ref,
  TE_common = nm$TE.common, seTE_common = nm$seTE.common,
  TE_random = nm$TE.random, seTE_random = nm$seTE.random,
  tau = nm$tau, tau2 = nm$tau^2, Q = nm$Q, df_Q = nm$df.Q,
  netsplit = list(comparison = ns$random$comparison, direct = ns$direct.random$TE,
                  indirect = ns$indirect.random$TE, seTE_direct = ns$direct.random$seTE,
                  seTE_indirect = ns$indirect.random$seTE),
  versions = list(R = R.version.string, netmeta = as.character(packageVersion("netmeta")),
                  meta = as.character(packageVersion("meta")), metafor = as.character(packageVersion("metafor"))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"), args[2])
