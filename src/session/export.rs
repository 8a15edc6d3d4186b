//! A cell's line of the export. The page exports its list, and a restored session its stored
//! cells; both go through [`records`] (each entry read through [`Entry`]) and [`record_of`], so
//! an export is the same before and after a reload.

use crate::count::CellRecord;
use crate::manifest::Manifest;
use crate::results::CellResult;
use crate::uncertainty::conformal::Level;
use crate::uncertainty::lab::LabProfile;

/// The laboratory profile that applies to the loaded model, if any (`lab`: the one kept).
pub fn lab_for<'a>(manifest: Option<&Manifest>, lab: Option<&'a LabProfile>) -> Option<&'a LabProfile> {
    let m = manifest?;
    lab.filter(|p| p.check(&m.model_id, m.conformal.as_ref()).is_ok())
}

/// Which calibration the sets use: `"lab"` (a laboratory profile made with this model) or
/// `"model"` (the manifest's); `None` when the model has no prediction sets.
pub fn calibration(manifest: Option<&Manifest>, lab: Option<&LabProfile>) -> Option<&'static str> {
    manifest?.conformal.as_ref()?;
    Some(if lab_for(manifest, lab).is_some() { "lab" } else { "model" })
}

/// The codes of a result's prediction set at `level`, most probable first; `None` when the
/// model has no calibration for it. With a laboratory profile for this model (`lab`), its
/// thresholds ([`LabProfile::set`]); else the manifest's.
pub fn set_codes(manifest: Option<&Manifest>, lab: Option<&LabProfile>, r: &CellResult, level: Level) -> Option<Vec<String>> {
    let spec = manifest?.conformal.as_ref()?;
    if let Some(p) = lab_for(manifest, lab) {
        return p.set(spec, &r.ranked, level);
    }
    let set = spec.set_for_ranked(&r.ranked, level, r.source.as_ref())?;
    Some(r.ranked.iter().take(set.size).map(|k| k.code.clone()).collect())
}

/// The export record of a cell with a result (`None` for a result without classes). `field`: the field's file name and the box.
pub fn record_of(
    name: &str,
    r: &CellResult,
    final_class: Option<&str>,
    field: Option<(&str, [u32; 4])>,
    manifest: Option<&Manifest>,
    lab: Option<&LabProfile>,
    level: Level,
) -> Option<CellRecord> {
    let top = r.ranked.first()?;
    let set = set_codes(manifest, lab, r, level);
    let coverage = set.is_some().then(|| level.fraction());
    let mut rec = CellRecord::new(name, top.code.clone(), top.probability, r.low_confidence).with_uncertainty(
        set.unwrap_or_default(),
        coverage,
        r.ood.map(|o| o.flagged),
    );
    if let Some(f) = final_class {
        rec.final_class = f.to_string();
        rec.confirmed = true;
    }
    rec.calibration = calibration(manifest, lab);
    if let Some((field_name, bbox)) = field {
        rec = rec.in_field(field_name, bbox);
    }
    Some(rec)
}

/// The export records of a field's white cells too small to classify (`boxes`, in detection
/// order), named `FIELD · white cell K (too small)`: no class, flagged `too_small`.
pub fn too_small_records(field_name: &str, boxes: &[[u32; 4]]) -> Vec<CellRecord> {
    boxes
        .iter()
        .enumerate()
        .map(|(k, b)| CellRecord::too_small(format!("{field_name} · white cell {} (too small)", k + 1), field_name, *b))
        .collect()
}

/// An entry of the list as the export reads it: a stored cell ([`super::StoredCell`]) or one of
/// the page's list, so that both go through the one [`records`].
pub trait Entry {
    /// The file's name (a field's white cell: `FIELD · cell K`).
    fn name(&self) -> &str;
    fn result(&self) -> Option<&CellResult>;
    /// The person's reassignment.
    fn final_class(&self) -> Option<&str>;
    /// For a white cell of a field: the field's file name and the cell's box.
    fn in_field(&self) -> Option<(&str, [u32; 4])>;
    /// For a field: the boxes of its white cells too small to classify.
    fn too_small(&self) -> &[[u32; 4]];
}

impl Entry for super::StoredCell {
    fn name(&self) -> &str {
        &self.name
    }
    fn result(&self) -> Option<&CellResult> {
        self.result.as_ref()
    }
    fn final_class(&self) -> Option<&str> {
        self.final_class.as_deref()
    }
    fn in_field(&self) -> Option<(&str, [u32; 4])> {
        self.field.as_ref().map(|f| (f.field_name.as_str(), f.bbox))
    }
    fn too_small(&self) -> &[[u32; 4]] {
        self.field_info.as_ref().map(|i| i.too_small.as_slice()).unwrap_or_default()
    }
}

/// The export records of a list's entries (the page's, or a stored session's): every cell with a
/// result, and a field's white cells too small to classify at the field's place, in list order.
pub fn records<E: Entry>(cells: &[E], manifest: Option<&Manifest>, lab: Option<&LabProfile>, level: Level) -> Vec<CellRecord> {
    let mut out = Vec::new();
    for c in cells {
        out.extend(too_small_records(c.name(), c.too_small()));
        let Some(r) = c.result() else { continue };
        out.extend(record_of(c.name(), r, c.final_class(), c.in_field(), manifest, lab, level));
    }
    out
}
