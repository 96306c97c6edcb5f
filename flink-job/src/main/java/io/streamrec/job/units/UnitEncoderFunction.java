package io.streamrec.job.units;

import io.streamrec.model.features.FeatureSpec;
import io.streamrec.model.units.CompactUnit;
import io.streamrec.model.units.UnitEncoder;
import io.streamrec.model.units.UnitLayout;
import io.streamrec.schemas.RequestUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Hashes each assembled unit's values into a {@link CompactUnit}, at the assembler's parallelism
 * and chained to it: the strings end here, and what reaches the trainer is ids and floats.
 */
public final class UnitEncoderFunction extends RichMapFunction<RequestUnit, CompactUnit> {
  private static final long serialVersionUID = 1L;

  private final FeatureSpec spec;
  private transient UnitEncoder encoder;

  public UnitEncoderFunction(FeatureSpec spec) {
    this.spec = spec;
  }

  @Override
  public void open(OpenContext openContext) throws Exception {
    super.open(openContext);
    encoder = new UnitEncoder(new UnitLayout(spec));
  }

  @Override
  public CompactUnit map(RequestUnit unit) {
    return encoder.encode(unit);
  }
}
