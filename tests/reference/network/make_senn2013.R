# Writes senn2013.csv (one row per arm) from netmeta's Senn2013 (netmeta 2.9-0; Senn et al. 2013,
# Stat Methods Med Res 22:169-89; mean differences in HbA1c, 26 studies, 10 treatments, one
# three-arm study, Willms1999). Two-arm studies: the comparator (treat2) is the baseline arm.
# Willms1999 (metf, acar, plac): baseline plac; the baseline arm's variance is recovered from
# its three pairwise variances, se0^2 = (v_metf:plac + v_acar:plac - v_metf:acar) / 2.
load(commandArgs(trailingOnly = TRUE)[1])
s <- Senn2013
out <- list()
for (st in unique(s$studlab)) {
  x <- s[s$studlab == st, ]
  if (nrow(x) == 1) {
    out[[st]] <- data.frame(study = st, treatment = c(x$treat2, x$treat1), log_hr = c(NA, x$TE), se = c(NA, x$seTE))
  } else {
    v <- function(a, b) { r <- x[(x$treat1 == a & x$treat2 == b) | (x$treat1 == b & x$treat2 == a), ]; r$seTE^2 }
    te <- function(a, b) { r <- x[x$treat1 == a & x$treat2 == b, ]; r$TE }
    v0 <- (v("metf", "plac") + v("acar", "plac") - v("metf", "acar")) / 2
    out[[st]] <- data.frame(study = st, treatment = c("plac", "metf", "acar"),
                            log_hr = c(NA, te("metf", "plac"), te("acar", "plac")),
                            se = c(sqrt(v0), sqrt(v("metf", "plac")), sqrt(v("acar", "plac"))))
  }
}
d <- do.call(rbind, out)
write.csv(d, "senn2013.csv", row.names = FALSE, na = "")
