package io.streamrec.model.baseline;

import io.streamrec.common.FeatureIds;
import io.streamrec.model.features.CategoricalFeature;
import io.streamrec.model.features.DenseFeature;
import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.features.Side;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.schemas.Impression;
import io.streamrec.schemas.RequestUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The impressions of a batch as sparse rows of (hashed id, value), the input of the hashed
 * baselines. Row {@code i} is entries {@code start[i] .. start[i+1]}: first a bias entry (value 1),
 * then one entry per categorical value (value 1/n for a feature of n values, its request or
 * impression side as the spec says), one per dense feature (its id the feature's name, its value
 * {@code sign(x)·log1p|x|} as the deep model reads it), and one per crossed pair of values. Each
 * entry carries its field (0 for the bias, then one per feature and cross), for models that treat
 * fields apart.
 */
public final class HashedRows {
  /** The bias entry's id: the same in every row. */
  static final long BIAS_ID = 0x5eedL;

  private final FeatureSpec spec;
  private final List<String[]> crosses;
  private final String label;

  int n;
  int[] start = new int[65];
  long[] ids = new long[256];
  float[] x = new float[256];
  int[] field = new int[256];
  float[] y = new float[64];

  /**
   * @param crosses pairs {request feature, impression feature} whose values are crossed
   */
  public HashedRows(FeatureSpec spec, List<String[]> crosses) {
    this.spec = spec;
    this.crosses = List.copyOf(crosses);
    this.label = spec.labels().get(0);
  }

  /** Rows (impressions) of the last {@link #fill}. */
  public int size() {
    return n;
  }

  /** Fields: the bias, every categorical and dense feature, every cross. */
  public int fields() {
    return 1 + spec.categorical().size() + spec.dense().size() + crosses.size();
  }

  /** Replaces the rows with those of {@code units}' impressions. */
  public void fill(List<RequestUnit> units) {
    int i = 0, k = 0;
    for (RequestUnit u : units) {
      for (Impression im : u.getImpressions()) {
        grow(i + 1, k + 1);
        start[i] = k;
        k = add(k, BIAS_ID, 1f, 0);
        int f = 1;
        for (CategoricalFeature c : spec.categorical()) {
          Map<String, List<String>> vals =
              c.side() == Side.REQUEST ? u.getFeatures() : im.getFeatures();
          List<String> vs = vals.get(c.name());
          if (vs != null && !vs.isEmpty()) {
            float v = 1f / vs.size();
            for (String s : vs) {
              grow(i + 1, k + 1);
              k = add(k, FeatureIds.of(c.name(), s), v, f);
            }
          }
          f++;
        }
        for (DenseFeature d : spec.dense()) {
          Float dv =
              d.side() == Side.REQUEST ? u.getDense().get(d.name()) : im.getDense().get(d.name());
          grow(i + 1, k + 1);
          k = add(k, FeatureIds.of("dense", d.name()), UnitEncoder.squash(dv), f++);
        }
        for (String[] c : crosses) {
          List<String> a = u.getFeatures().get(c[0]);
          List<String> b = im.getFeatures().get(c[1]);
          if (a != null && b != null) {
            for (String va : a) {
              for (String vb : b) {
                grow(i + 1, k + 1);
                k = add(k, FeatureIds.of(c[0] + "x" + c[1], va + '\u0001' + vb), 1f, f);
              }
            }
          }
          f++;
        }
        Float yl = im.getLabels().get(label);
        y[i] = yl == null ? 0f : yl;
        i++;
      }
    }
    start[i] = k;
    n = i;
  }

  private int add(int k, long id, float v, int f) {
    ids[k] = id;
    x[k] = v;
    field[k] = f;
    return k + 1;
  }

  private void grow(int rows, int entries) {
    if (y.length < rows) {
      y = Arrays.copyOf(y, rows * 2);
      start = Arrays.copyOf(start, rows * 2 + 1);
    }
    if (ids.length < entries) {
      ids = Arrays.copyOf(ids, entries * 2);
      x = Arrays.copyOf(x, entries * 2);
      field = Arrays.copyOf(field, entries * 2);
    }
  }
}
