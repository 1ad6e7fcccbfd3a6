# REML network meta-analysis with metafor::rma.mv on contrast rows with their exact within-study
# covariance (baseline se^2 off the diagonal) and random effects with correlation 1/2 (struct =
# "CS", rho = 0.5): the restricted likelihood bayesnet evaluates with flat priors on d.
# Usage: Rscript metafor_rma_mv_reference.R INPUT.csv OUTPUT.json
library(metafor)
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses=c(study="character",treatment="character"))
trs <- sort(unique(d$treatment)); ref <- trs[1]; oth <- trs[-1]
y <- c(); X <- NULL; V <- list(); st <- c(); cid <- c()
for (s in unique(d$study)) { x <- d[d$study==s,]; b <- which(is.na(x$log_hr)); v0 <- if (nrow(x)>2) x$se[b]^2 else 0
  arms <- setdiff(seq_len(nrow(x)), b); m <- length(arms); C <- matrix(v0, m, m); diag(C) <- x$se[arms]^2; V[[s]] <- C
  for (k in arms) { r <- setNames(rep(0,length(oth)), oth); if (x$treatment[k]!=ref) r[x$treatment[k]] <- 1; if (x$treatment[b]!=ref) r[x$treatment[b]] <- r[x$treatment[b]]-1
    X <- rbind(X, r); y <- c(y, x$log_hr[k]); st <- c(st, s); cid <- c(cid, paste(s, k)) } }
VV <- bldiag(V)
f <- rma.mv(y, VV, mods = X, intercept = FALSE, random = ~ cid | st, struct = "CS", rho = 0.5, method = "REML", control=list(rel.tol=1e-12))
writeLines(jsonlite::toJSON(list(tau = sqrt(f$tau2), b = setNames(as.list(as.numeric(coef(f))), oth), se = setNames(as.list(as.numeric(f$se)), oth), metafor = as.character(packageVersion("metafor")), R = R.version.string), digits = NA, auto_unbox = TRUE), args[2])
