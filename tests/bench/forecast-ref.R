# tests/bench/forecast-ref.R: the reference side of bench-forecast.sh.
# Runs R's forecast package (Hyndman & Khandakar, JSS 27(3), 2008) on a
# data set in the M4 layout and scores it exactly as umbra-forecast-eval
# does (src/tools/forecast-eval.c), so the two tables compare.
#
#   Rscript forecast-ref.R run --dir DIR --h 48 --periods 24,168 \
#       --models ets,arima,stlf,snaive [--first K] [--limit N] --out FILE
#   Rscript forecast-ref.R summarize --in FILE [--in FILE2 ...] \
#       [--match FILE --match-model MODEL]
#
# run: for each series of <DIR>/<Set>-train.csv, fits and forecasts
#   ets       ets(ts(y, frequency = m))          (R ignores m > 24)
#   arima     auto.arima(ts(y, frequency = m))
#   stlf      stlf(msts(y, periods))             (mstl + ETS, as umbra's MSTL)
#   snaive    snaive(ts(y, frequency = m))
# with m the first period (series --first K on, at most --limit N of
# them), and writes one CSV row per series and model,
# the same columns as umbra-forecast-eval --details:
#   series,model,scored,smape,mase,cov80,cov95,points,seconds,method
# plus rows for model "naive2-ref", the Naive2 forecasts of
# <DIR>/benchmark_forecasts/submission-Naive2_<set>.csv (the organisers'
# for M4, umbra's own for exported per-VM data), which OWA is relative to.
# seconds is the CPU time (user + system) of fit + forecast.
#
# summarize: one CSV line per model with the keys of umbra-forecast-eval
# --json: model,series,smape,mase,owa,coverage80,coverage95,seconds,
# seconds_per_series,failed.  A series is scored when its Naive2 MASE is
# finite (non-constant training data, some held-out value present).  With
# --match, only the series that FILE scores for MODEL count (to compare
# with a cache that covers only some series).  The input may also be
# umbra-forecast-eval --details output, which has the same columns.
#
# Measures (M4, Makridakis et al., IJF 36, 2020): sMAPE = 200/h sum
# |y-f|/(|y|+|f|) (0/0 counts 0); MASE = MAE / in-sample MAE of the lag-m
# seasonal naive (lag 1 if n <= m), on the training series with gaps
# interpolated linearly; coverage pooled over held-out points.  Missing
# held-out values (NA) are left out; missing training values are
# interpolated linearly before fitting, as umbra's fc_forecast() does.
suppressPackageStartupMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) {
    stop("usage: forecast-ref.R run|summarize ...")
}
cmd <- args[1]
opt <- list(dir = NULL, set = NULL, h = 48, periods = "24,168",
            models = "ets,arima,stlf,snaive", first = 1, limit = 0,
            out = NULL, match = NULL, "match-model" = NULL,
            inputs = character(0))
i <- 2
while (i <= length(args)) {
    key <- sub("^--", "", args[i])
    val <- args[i + 1]
    if (key == "in") {
        opt$inputs <- c(opt$inputs, val)
    } else if (key %in% names(opt)) {
        opt[[key]] <- val
    } else {
        stop("unknown option ", args[i])
    }
    i <- i + 2
}

# Reads the M4 layout: a list of numeric vectors named by series id.  Empty
# trailing fields are padding; "NA" is a missing value.
read_m4 <- function(path) {
    if (!file.exists(path)) {
        stop(path, ": no such file")
    }
    d <- read.csv(path, header = TRUE, colClasses = "character",
                  na.strings = character(0), check.names = FALSE)
    out <- vector("list", nrow(d))
    for (r in seq_len(nrow(d))) {
        v <- unlist(d[r, -1], use.names = FALSE)
        k <- length(v)
        while (k > 0 && v[k] == "") {
            k <- k - 1
        }
        v <- v[seq_len(k)]
        v[v == ""] <- "NA"
        out[[r]] <- suppressWarnings(as.numeric(v))
    }
    names(out) <- d[[1]]
    out
}

find_set <- function(dir, set) {
    if (!is.null(set)) {
        return(set)
    }
    f <- list.files(dir, pattern = "-train\\.csv$")
    if (length(f) != 1) {
        stop(dir, ": want exactly one <Set>-train.csv, pass --set")
    }
    sub("-train\\.csv$", "", f)
}

fill_linear <- function(y) {
    ok <- which(is.finite(y))
    if (length(ok) == 0) {
        return(rep(0, length(y)))
    }
    if (length(ok) == length(y)) {
        return(y)
    }
    approx(ok, y[ok], xout = seq_along(y), rule = 2)$y
}

smape <- function(a, f) {
    den <- abs(a) + abs(f)
    t <- ifelse(den > 0, abs(a - f) / den, 0)
    200 * mean(t)
}

mase <- function(x, m, a, f) {
    n <- length(x)
    if (m < 1 || n <= m) {
        return(NA_real_)
    }
    scale <- mean(abs(x[(m + 1):n] - x[1:(n - m)]))
    if (!is.finite(scale) || scale <= 0) {
        return(NA_real_)
    }
    mean(abs(a - f)) / scale
}

score <- function(x, m, actual, mean, lo80, hi80, lo95, hi95) {
    ok <- is.finite(actual)
    a <- actual[ok]
    if (length(a) == 0) {
        return(list(smape = NA_real_, mase = NA_real_, cov80 = NA_real_,
                    cov95 = NA_real_, points = 0))
    }
    lag <- if (length(x) > m) m else 1
    list(smape = smape(a, mean[ok]), mase = mase(x, lag, a, mean[ok]),
         cov80 = if (is.null(lo80)) 0 else
             mean(a >= lo80[ok] & a <= hi80[ok]),
         cov95 = if (is.null(lo95)) 0 else
             mean(a >= lo95[ok] & a <= hi95[ok]),
         points = length(a))
}

fit_forecast <- function(model, y, periods, h) {
    m <- periods[1]
    lv <- c(80, 95)
    switch(model,
        ets = {
            fit <- suppressWarnings(ets(ts(y, frequency = m)))
            fc <- forecast(fit, h = h, level = lv)
            fc$method <- fit$method
            fc
        },
        arima = {
            fit <- auto.arima(ts(y, frequency = m))
            fc <- forecast(fit, h = h, level = lv)
            fc$method <- paste(as.character(fit), collapse = "")
            fc
        },
        stlf = {
            p <- periods[periods < length(y) / 2]
            x <- if (length(p) > 1) msts(y, seasonal.periods = p) else
                ts(y, frequency = if (length(p)) p[1] else m)
            stlf(x, h = h, level = lv)
        },
        snaive = snaive(ts(y, frequency = m), h = h, level = lv),
        stop("unknown model ", model))
}

fmt <- function(v) {
    ifelse(is.finite(v), sprintf("%.6g", v), "NA")
}

write_row <- function(out, id, model, scored, s, seconds, method) {
    line <- paste0('"', gsub('"', '""', id), '",', model, ",",
                   as.integer(scored), ",", fmt(s$smape), ",", fmt(s$mase),
                   ",", fmt(s$cov80), ",", fmt(s$cov95), ",", s$points, ",",
                   fmt(seconds), ',"', gsub('"', '""', method), '"')
    cat(line, "\n", file = out, sep = "", append = TRUE)
}

run <- function() {
    dir <- opt$dir
    set <- find_set(dir, opt$set)
    h <- as.integer(opt$h)
    periods <- as.integer(strsplit(opt$periods, ",")[[1]])
    models <- strsplit(opt$models, ",")[[1]]
    train <- read_m4(file.path(dir, paste0(set, "-train.csv")))
    test <- read_m4(file.path(dir, paste0(set, "-test.csv")))
    ref <- read_m4(file.path(dir, "benchmark_forecasts",
                             paste0("submission-Naive2_", tolower(set),
                                    ".csv")))
    ids <- names(train)
    if (as.integer(opt$first) > 1) {
        ids <- ids[-seq_len(as.integer(opt$first) - 1)]
    }
    if (as.integer(opt$limit) > 0) {
        ids <- head(ids, as.integer(opt$limit))
    }
    out <- opt$out
    cat("series,model,scored,smape,mase,cov80,cov95,points,seconds,method\n",
        file = out)
    for (id in ids) {
        y <- fill_linear(train[[id]])
        actual <- test[[id]][seq_len(h)]
        r <- ref[[id]][seq_len(h)]
        s0 <- score(y, periods[1], actual, r, NULL, NULL, NULL, NULL)
        scored <- s0$points > 0 && is.finite(s0$mase)
        write_row(out, id, "naive2-ref", scored, s0, 0, "Naive2")
        for (model in models) {
            t0 <- proc.time()
            fc <- tryCatch(fit_forecast(model, y, periods, h),
                           error = function(e) e)
            dt <- proc.time() - t0
            sec <- dt[["user.self"]] + dt[["sys.self"]]
            if (inherits(fc, "error")) {
                # Scored as Naive2 with no intervals, as umbra does.
                s <- score(y, periods[1], actual, r, NULL, NULL, NULL, NULL)
                method <- paste("failed:", conditionMessage(fc))
            } else {
                s <- score(y, periods[1], actual, as.numeric(fc$mean),
                           as.numeric(fc$lower[, 1]),
                           as.numeric(fc$upper[, 1]),
                           as.numeric(fc$lower[, 2]),
                           as.numeric(fc$upper[, 2]))
                method <- fc$method
            }
            write_row(out, id, model, scored, s, sec, method)
        }
    }
}

summarize <- function() {
    d <- do.call(rbind, lapply(opt$inputs, read.csv,
                               stringsAsFactors = FALSE))
    if (!is.null(opt$match)) {
        m <- read.csv(opt$match, stringsAsFactors = FALSE)
        keep <- m$series[m$model == opt[["match-model"]] & m$scored == 1]
        d <- d[d$series %in% keep, ]
    }
    ref <- d[d$model == "naive2-ref", ]
    for (model in setdiff(unique(d$model), "naive2-ref")) {
        x <- d[d$model == model, ]
        all_seconds <- sum(x$seconds, na.rm = TRUE)
        nall <- nrow(x)
        x <- x[x$scored == 1, ]
        rr <- ref[match(x$series, ref$series), ]
        owa <- 0.5 * (sum(x$smape) / sum(rr$smape) +
                      sum(x$mase) / sum(rr$mase))
        pts <- sum(x$points)
        cat(sprintf("%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d\n", model,
                    nrow(x), mean(x$smape), mean(x$mase), owa,
                    sum(x$cov80 * x$points) / pts,
                    sum(x$cov95 * x$points) / pts, all_seconds,
                    all_seconds / nall,
                    sum(grepl("^failed", x$method))))
    }
}

if (cmd == "run") {
    run()
} else if (cmd == "summarize") {
    summarize()
} else {
    stop("unknown command ", cmd)
}
