# Reference values for bayesnet.pubbias from metafor (run: Rscript make_reference.R).
# Writes metafor_reference.json next to this script. metafor 3.8.1, R from Debian packages.
suppressMessages(library(metafor))
out <- list(metafor_version = as.character(packageVersion("metafor")))
for (name in c("biased_k14", "unbiased_k8")) {
  d <- read.csv(paste0(name, ".csv"))
  vi <- d$se^2
  ev <- d$events_treated + d$events_control
  res <- list()
  # Egger: regtest default (model = "rma", REML, predictor = "sei", z test)
  eg <- regtest(d$log_hr, vi)
  res$egger <- list(z = eg$zval, p = eg$pval, limit = eg$est, limit_ci = c(eg$ci.lb, eg$ci.ub))
  # Egger's classic small-sample version (Egger et al. 1997): weighted regression with a
  # multiplicative dispersion, t test with k - 2 df (regtest model = "lm")
  egl <- regtest(d$log_hr, vi, model = "lm")
  res$egger_lm <- list(t = egl$zval, df = egl$dfs, p = egl$pval, limit = egl$est)
  # PET and PEESE as meta-regressions (REML)
  pet <- rma(d$log_hr, vi, mods = ~ d$se)
  peese <- rma(d$log_hr, vi, mods = ~ vi)
  for (m in list(list("pet", pet), list("peese", peese))) {
    f <- m[[2]]
    res[[m[[1]]]] <- list(b = as.numeric(f$b), se = as.numeric(f$se), zval = as.numeric(f$zval),
                          pval = as.numeric(f$pval), tau2 = f$tau2)
  }
  # Debray, Moons & Riley 2018: log-HR on 1/(total events), multiplicative dispersion (lm)
  fiv <- regtest(d$log_hr, vi, ni = ev, model = "lm", predictor = "ninv")
  fav <- regtest(d$log_hr, 1 / d$events_treated + 1 / d$events_control, ni = ev, model = "lm", predictor = "ninv")
  res$debray_fiv <- list(t = fiv$zval, df = fiv$dfs, p = fiv$pval)
  res$debray_fav <- list(t = fav$zval, df = fav$dfs, p = fav$pval)
  # Vevea-Hedges step-function selection model (ML), "significant" = negative log-HR
  base <- rma(d$log_hr, vi, method = "ML")
  sel <- selmodel(base, type = "stepfun", steps = c(0.025, 0.05, 0.5, 1), alternative = "less")
  res$selmodel <- list(mu = as.numeric(sel$beta), tau2 = sel$tau2, delta = as.numeric(sel$delta),
                       steps = c(0.025, 0.05, 0.5, 1), logLik = as.numeric(logLik(sel)))
  out[[name]] <- res
}
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "metafor_reference.json")
