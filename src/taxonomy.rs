//! The 21 cell classes of the MLL bone-marrow dataset (Matek et al. 2021), and the classes a
//! model may add that are not MLL classes ([`EXTRA`]: platelets, from peripheral blood).

use serde::Serialize;

/// Broad lineage, used to group the atlas and the differential count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lineage {
    Myeloid,
    Erythroid,
    Lymphoid,
    Monocytic,
    Progenitor,
    /// Platelets (megakaryocytic lineage): not an MLL class.
    Thrombocytic,
    NonCell,
}

impl Lineage {
    pub fn label(self) -> &'static str {
        match self {
            Lineage::Myeloid => "Granulocytic (myeloid)",
            Lineage::Erythroid => "Erythroid",
            Lineage::Lymphoid => "Lymphoid",
            Lineage::Monocytic => "Monocytic",
            Lineage::Progenitor => "Progenitor",
            Lineage::Thrombocytic => "Platelets (not an MLL class)",
            Lineage::NonCell => "Other / not a cell type",
        }
    }
}

/// One class of the MLL taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CellClass {
    /// The three-letter code used by the dataset (e.g. `NGS`).
    pub code: &'static str,
    pub name: &'static str,
    pub lineage: Lineage,
    /// A short morphological description for students.
    pub description: &'static str,
    /// Key for manual counters (one letter or digit; unique).
    pub key: char,
}

/// All 21 classes in the dataset's canonical (alphabetical) order.
pub const CLASSES: [CellClass; 21] = [
    CellClass { code: "ABE", name: "Abnormal eosinophil", lineage: Lineage::Myeloid, key: 'a',
        description: "Eosinophil with atypical granules: large, purple-violet (basophilic-looking) granules mixed with orange ones, as in AML with inv(16)." },
    CellClass { code: "ART", name: "Artefact", lineage: Lineage::NonCell, key: 'x',
        description: "Not a cell: stain precipitate, debris, overlapping or crushed material, or an empty field." },
    CellClass { code: "BAS", name: "Basophil", lineage: Lineage::Myeloid, key: 'b',
        description: "Granulocyte whose nucleus is hidden by coarse, dark blue-black granules." },
    CellClass { code: "BLA", name: "Blast", lineage: Lineage::Progenitor, key: '1',
        description: "Large immature cell: high nucleus-to-cytoplasm ratio, fine open chromatin, often visible nucleoli, scant basophilic cytoplasm." },
    CellClass { code: "EBO", name: "Erythroblast", lineage: Lineage::Erythroid, key: 'e',
        description: "Nucleated red-cell precursor: round, dense, centrally placed nucleus; cytoplasm from blue to grey-pink as haemoglobin accumulates." },
    CellClass { code: "EOS", name: "Eosinophil", lineage: Lineage::Myeloid, key: 'o',
        description: "Granulocyte with a usually bilobed nucleus and cytoplasm packed with coarse orange-red granules." },
    CellClass { code: "FGC", name: "Faggot cell", lineage: Lineage::Progenitor, key: 'f',
        description: "Abnormal promyelocyte holding bundles of Auer rods; typical of acute promyelocytic leukaemia." },
    CellClass { code: "HAC", name: "Hairy cell", lineage: Lineage::Lymphoid, key: 'h',
        description: "Mature B lymphocyte with an oval nucleus and pale cytoplasm with fine hair-like projections." },
    CellClass { code: "KSC", name: "Smudge cell", lineage: Lineage::NonCell, key: 'k',
        description: "Ruptured, fragile cell (often a lymphocyte) left as a smear of nuclear material without cytoplasm." },
    CellClass { code: "LYI", name: "Immature lymphocyte", lineage: Lineage::Lymphoid, key: 'i',
        description: "Lymphoid precursor: larger than a mature lymphocyte, finer chromatin, sometimes a nucleolus." },
    CellClass { code: "LYT", name: "Lymphocyte", lineage: Lineage::Lymphoid, key: 'l',
        description: "Small round cell with a dense, round nucleus and a thin rim of pale blue cytoplasm." },
    CellClass { code: "MMZ", name: "Metamyelocyte", lineage: Lineage::Myeloid, key: 'z',
        description: "Granulocyte precursor with a kidney-shaped (indented) nucleus and pink, finely granular cytoplasm." },
    CellClass { code: "MON", name: "Monocyte", lineage: Lineage::Monocytic, key: 'm',
        description: "Large cell with a folded or kidney-shaped nucleus, lacy chromatin and grey-blue cytoplasm, often with vacuoles." },
    CellClass { code: "MYB", name: "Myelocyte", lineage: Lineage::Myeloid, key: 'y',
        description: "Granulocyte precursor with a round to oval eccentric nucleus, no nucleoli, and specific (pink) granules." },
    CellClass { code: "NGB", name: "Band neutrophil", lineage: Lineage::Myeloid, key: 'g',
        description: "Neutrophil whose nucleus is a curved band of even width, not yet segmented." },
    CellClass { code: "NGS", name: "Segmented neutrophil", lineage: Lineage::Myeloid, key: 'n',
        description: "Mature neutrophil: nucleus of 2–5 lobes joined by thin strands, pale pink finely granular cytoplasm." },
    CellClass { code: "NIF", name: "Not identifiable", lineage: Lineage::NonCell, key: 'u',
        description: "A cell that cannot be assigned to a class from this image (damaged, blurred or ambiguous)." },
    CellClass { code: "OTH", name: "Other cell", lineage: Lineage::NonCell, key: 't',
        description: "A cell that belongs to none of the other classes (e.g. mast cell, macrophage, megakaryocyte)." },
    CellClass { code: "PEB", name: "Proerythroblast", lineage: Lineage::Erythroid, key: 'p',
        description: "Earliest recognisable red-cell precursor: large, round nucleus with nucleoli and deeply basophilic cytoplasm." },
    CellClass { code: "PLM", name: "Plasma cell", lineage: Lineage::Lymphoid, key: 's',
        description: "Oval cell with an eccentric nucleus (clock-face chromatin), deep blue cytoplasm and a pale perinuclear zone (Golgi)." },
    CellClass { code: "PMO", name: "Promyelocyte", lineage: Lineage::Myeloid, key: 'r',
        description: "Large granulocyte precursor with abundant coarse azurophilic (purple) granules and often a visible Golgi zone." },
];

/// Classes that are not among the 21 MLL classes but that a model may output: platelets, which
/// the peripheral-blood dataset (Acevedo et al. 2020) labels and the marrow dataset does not.
pub const EXTRA: [CellClass; 1] = [CellClass {
    code: "PLT",
    name: "Platelet",
    lineage: Lineage::Thrombocytic,
    key: 'q',
    description: "Not a cell but a fragment of a megakaryocyte, 2–3 µm, purple-granular without a nucleus; often in clumps. Not one of the 21 MLL classes: learned from peripheral blood.",
}];

/// Every class a model may output: the 21 MLL classes, then [`EXTRA`].
pub fn all() -> impl Iterator<Item = &'static CellClass> {
    CLASSES.iter().chain(EXTRA.iter())
}

/// Whether `code` is one of the 21 MLL classes (not an [`EXTRA`] class).
pub fn is_mll(code: &str) -> bool {
    CLASSES.iter().any(|c| c.code.eq_ignore_ascii_case(code))
}

/// Looks a class up by its code (case-insensitive), MLL or [`EXTRA`].
pub fn by_code(code: &str) -> Option<&'static CellClass> {
    all().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// Looks a class up by its counter key.
pub fn by_key(key: char) -> Option<&'static CellClass> {
    let key = key.to_ascii_lowercase();
    all().find(|c| c.key == key)
}

/// A display name for a code, falling back to the code itself.
pub fn name_of(code: &str) -> &str {
    by_code(code).map(|c| c.name).unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_one_unique_codes_and_keys() {
        let mut codes: Vec<_> = CLASSES.iter().map(|c| c.code).collect();
        let mut keys: Vec<_> = CLASSES.iter().map(|c| c.key).collect();
        codes.sort();
        codes.dedup();
        keys.sort();
        keys.dedup();
        assert_eq!(codes.len(), 21);
        assert_eq!(keys.len(), 21);
        let canonical = "ABE ART BAS BLA EBO EOS FGC HAC KSC LYI LYT MMZ MON MYB NGB NGS NIF OTH PEB PLM PMO";
        assert_eq!(CLASSES.iter().map(|c| c.code).collect::<Vec<_>>().join(" "), canonical);
    }

    #[test]
    fn lookups() {
        assert_eq!(by_code("ngs").map(|c| c.name), Some("Segmented neutrophil"));
        assert_eq!(by_key('N').map(|c| c.code), Some("NGS"));
        assert!(by_code("XYZ").is_none());
        assert_eq!(name_of("XYZ"), "XYZ");
        assert_eq!(by_code("plt").map(|c| c.name), Some("Platelet"));
        assert!(!is_mll("PLT") && is_mll("ngs"));
    }

    #[test]
    fn extra_classes_keep_codes_and_keys_unique() {
        let mut codes: Vec<_> = all().map(|c| c.code).collect();
        let mut keys: Vec<_> = all().map(|c| c.key).collect();
        codes.sort();
        codes.dedup();
        keys.sort();
        keys.dedup();
        assert_eq!((codes.len(), keys.len()), (21 + EXTRA.len(), 21 + EXTRA.len()));
    }
}
