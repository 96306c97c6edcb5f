# The quality benchmark's tables, from the QUALITY lines of QualityBench and scripts/torch_bench.py
# (stream | model | impressions | AUC all | AUC last | LL all | LL last | cal all | cal last | imps/s):
# a table per stream, the quality target's check (the reference model and the best of streamrec's
# rows against the best baseline) and, for rows named "..., seed N", each model's mean, spread and
# the difference of the means. Run by scripts/bench-quality.sh:
#
#   awk -F' [|] ' [-v last=FRACTION] -f scripts/quality-table.awk LINES
#
# (last: the fraction of the stream the "last" figures are over, QualityBench's --last-frac; 0.2)
  /^QUALITY/ {
    s = substr($1, 9); n[s]++; key = s SUBSEP n[s]
    line[key] = sprintf("%-100s %9.4f %9.4f %9.4f %9.4f %7.3f %7.3f %10.0f", $2, $4, $5, $6, $7, $8, $9, $10)
    name[key] = $2; v[key, 1] = $4; v[key, 2] = $5; v[key, 3] = $6; v[key, 4] = $7; cal[key, 1] = $8; cal[key, 2] = $9
    if (!(s in seen)) { seen[s] = 1; streams[++ns] = s; imps[s] = $3 }
  }
  END {
    for (k = 1; k <= ns; k++) {
      s = streams[k]
      printf "%s stream (%d impressions)\n", s, imps[s]
      printf "%-100s %9s %9s %9s %9s %7s %7s %10s\n", "model", "AUC all", "AUC last", "LL all", "LL last", "cal all", "cal last", "imps/s"
      for (i = 1; i <= n[s]; i++) print line[s SUBSEP i]
      print ""
    }
    print "AUC, log loss (LL), calibration (mean prediction / observed rate): progressive, over the whole stream"
    printf "(all) and its last %g%% of impressions (last). imps/s: training rate, one thread (PyTorch: nproc).\n", (last == "" ? 0.2 : last) * 100
    # the quality target: AUC at least the best baseline's + 0.01 over the whole stream and its last
    # 20%, log loss no higher, calibration within 0.95-1.05. Baselines: the hashed models and the
    # same model in PyTorch (not PyTorch's ablation rows, which carry streamrec's options)
    print ""
    print "target: AUC >= best baseline + 0.01 (all and last), log loss <= best baseline's, calibration in 0.95-1.05"
    printf "%-10s %-8s %-47s %-19s %s\n", "stream", "metric", "best baseline", "reference (margin)", "best of streamrec's rows (margin)"
    split("AUC all,AUC last,LL all,LL last", metric, ",")
    for (k = 1; k <= ns; k++) {
      s = streams[k]; ref = ""; missed = ""
      for (m = 1; m <= 4; m++) {
        better = m <= 2 ? 1 : -1; b = ""; o = ""
        for (i = 1; i <= n[s]; i++) {
          key = s SUBSEP i; x = v[key, m] * better
          if (name[key] ~ /^(hashed LR|factorization machine)/ || name[key] ~ /^PyTorch [^,]*, same model(, Adagrad from [0-9.]+)?$/) {
            if (b == "" || x > v[b, m] * better) b = key
          } else if (name[key] ~ /^streamrec/ && name[key] !~ /, seed [0-9]+$/) {
            if (o == "" || x > v[o, m] * better) o = key
            if (name[key] == "streamrec (reference model)") ref = key
          }
        }
        if (b == "" || o == "" || ref == "") continue
        need = m <= 2 ? 0.01 : 0
        if ((v[ref, m] - v[b, m]) * better < need - 1e-9) missed = missed (missed == "" ? "" : ", ") metric[m]
        bn = name[b]; sub(/^PyTorch [^,]*, /, "PyTorch ", bn)
        on = name[o]; sub(/^streamrec(, | \()/, "", on); sub(/\)$/, "", on)
        printf "%-10s %-8s %.4f %-40s %.4f (%+.4f)  %.4f (%+.4f) %s\n", s, metric[m], v[b, m], bn, \
          v[ref, m], v[ref, m] - v[b, m], v[o, m], v[o, m] - v[b, m], on
      }
      if (ref == "") continue
      if (cal[ref, 1] < 0.95 || cal[ref, 1] > 1.05 || cal[ref, 2] < 0.95 || cal[ref, 2] > 1.05) missed = missed (missed == "" ? "" : ", ") "calibration"
      printf "%-10s the reference model %s (calibration %.3f / %.3f)\n", s, \
        missed == "" ? "meets the target" : "misses the target on " missed, cal[ref, 1], cal[ref, 2]
    }
    # --seeds: each model over its other draws of the initial weights, mean, standard deviation and
    # range; then the reference model's mean against PyTorch's, with the standard error of the
    # difference of two means (sqrt(sd1^2/n1 + sd2^2/n2))
    printed = 0
    for (k = 1; k <= ns; k++) {
      s = streams[k]; ng = 0; delete gi; delete gname; delete cnt
      for (i = 1; i <= n[s]; i++) {
        key = s SUBSEP i; g = name[key]
        if (!sub(/, seed [0-9]+$/, "", g)) continue
        if (!(g in gi)) { gi[g] = ++ng; gname[ng] = g }
        j = gi[g]; c = ++cnt[j]
        for (m = 1; m <= 4; m++) sv[j, m, c] = v[key, m]
      }
      if (ng == 0) continue
      if (!printed) {
        printed = 1
        print ""
        print "over other draws of the initial weights (--seeds): mean +- sd [min, max]"
        printf "%-10s %-60s %3s %-30s %-30s %-16s %-16s\n", "stream", "model", "n", "AUC all", "AUC last", "LL all", "LL last"
      }
      for (j = 1; j <= ng; j++) {
        row = ""
        for (m = 1; m <= 4; m++) {
          sum = 0; lo = 1e9; hi = -1e9
          for (c = 1; c <= cnt[j]; c++) { x = sv[j, m, c]; sum += x; if (x < lo) lo = x; if (x > hi) hi = x }
          mean[j, m] = sum / cnt[j]; ss = 0
          for (c = 1; c <= cnt[j]; c++) ss += (sv[j, m, c] - mean[j, m]) ^ 2
          sd[j, m] = cnt[j] > 1 ? sqrt(ss / (cnt[j] - 1)) : 0
          row = row (m <= 2 ? sprintf("%.4f +- %.4f [%.4f, %.4f]  ", mean[j, m], sd[j, m], lo, hi) \
                             : sprintf("%.4f +- %.4f  ", mean[j, m], sd[j, m]))
        }
        printf "%-10s %-60s %3d %s\n", s, gname[j], cnt[j], row
      }
      r = 0; t = 0
      for (j = 1; j <= ng; j++) {
        if (gname[j] == "streamrec (reference model)") r = j
        if (gname[j] ~ /^PyTorch [^,]*, same model, Adagrad from [0-9.]+$/) t = j
      }
      if (r && t) {
        row = ""
        for (m = 1; m <= 4; m++)
          row = row sprintf("%-8s %+.4f +- %.4f   ", metric[m], mean[r, m] - mean[t, m], \
            sqrt(sd[r, m] ^ 2 / cnt[r] + sd[t, m] ^ 2 / cnt[t]))
        printf "%-10s reference model's mean - PyTorch's: %s\n", s, row
      }
      # each other streamrec model (an ablation) against the reference model, mean against mean
      for (j = 1; j <= ng && r; j++) {
        if (j == r || gname[j] !~ /^streamrec/) continue
        row = ""
        for (m = 1; m <= 4; m++)
          row = row sprintf("%-8s %+.4f +- %.4f   ", metric[m], mean[j, m] - mean[r, m], \
            sqrt(sd[j, m] ^ 2 / cnt[j] + sd[r, m] ^ 2 / cnt[r]))
        name_j = gname[j]; sub(/^streamrec, /, "", name_j)
        printf "%-10s %s - reference model: %s\n", s, name_j, row
      }
    }
  }
