# RoBMA-PSMA reference fits for bayesnet.pubbias (run: Rscript make_robma_reference.R NAME).
# RoBMA 3.6.1, BayesTools 0.2.22 and runjags built from CRAN sources; JAGS 4.3.1 from Debian.
# The priors are stated exactly as bayesnet's [publication_bias] section writes them:
#   effect = normal(0, 1), heterogeneity = inv_gamma(1, 0.15) on tau, RoBMA's default bias
#   priors (6 weight functions, PET Cauchy(0,1)+, PEESE Cauchy(0,5)+), prior_scale "none",
#   direction negative (HR < 1 counts as significant).
suppressMessages(library(RoBMA))
args <- commandArgs(trailingOnly = TRUE)
name <- if (length(args)) args[1] else "biased_k14"
d <- read.csv(paste0(name, ".csv"))
t0 <- proc.time()[["elapsed"]]
fit <- RoBMA(y = d$log_hr, se = d$se, study_names = d$study, prior_scale = "none",
             priors_effect = prior("normal", parameters = list(mean = 0, sd = 1)),
             priors_heterogeneity = prior("invgamma", parameters = list(shape = 1, scale = 0.15)),
             effect_direction = "negative", seed = 1, parallel = FALSE)
secs <- proc.time()[["elapsed"]] - t0
s <- summary(fit)
sm <- summary(fit, type = "models")$summary
models <- data.frame(effect = sm$Effect, heterogeneity = sm$Heterogeneity, bias = sm$Bias,
                     prior_prob = sm$prior_prob, log_ml = sm$marglik, post_prob = sm$post_prob,
                     incl_bf = sm$inclusion_BF)
logml_err <- sapply(fit$models, function(m) tryCatch(bridgesampling::error_measures(m$marglik)$percentage, error = function(e) NA))
out <- list(robma_version = as.character(packageVersion("RoBMA")), seconds = secs,
            components = as.data.frame(s$components), estimates = as.data.frame(s$estimates),
            models = models, bridge_error_percentage = logml_err,
            mcmc_error = tryCatch(as.data.frame(summary(fit, include_mcmc_diagnostics = TRUE)$estimates), error = function(e) NULL))
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, rownames = TRUE),
           paste0("robma_", name, ".json"))
