//! The typst `World` a render runs in: the embedded templates, one JSON data file and the fonts
//! of `typst-assets`. Nothing else exists in it — no file system, no packages, no clock — so a
//! render reads nothing but what the caller passed and is reproducible byte for byte.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_pdf::PdfOptions;

use crate::PdfError;

/// Where the templates find their data: `json("/data.json")`.
const DATA_PATH: &str = "/data.json";

/// Old entries of typst's global memoization cache are dropped after this many renders. Without
/// eviction the cache grows with every distinct document a long-running server renders; typst's
/// own CLI uses the same age in watch mode.
const CACHE_MAX_AGE: usize = 10;

fn file_id(path: &str) -> FileId {
    // The paths are the constants of this module, so they always parse.
    let vpath = VirtualPath::new(path).expect("static template paths are valid virtual paths");
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// A document template: its main source, parsed once; it imports `/common.typ`.
pub(crate) struct Template {
    main: Source,
}

static COMMON: LazyLock<Source> = LazyLock::new(|| {
    Source::new(
        file_id("/common.typ"),
        include_str!("../templates/common.typ").to_owned(),
    )
});

pub(crate) static CONTRACT: LazyLock<Template> = LazyLock::new(|| Template {
    main: Source::new(
        file_id("/contract.typ"),
        include_str!("../templates/contract.typ").to_owned(),
    ),
});

pub(crate) static INVOICE: LazyLock<Template> = LazyLock::new(|| Template {
    main: Source::new(
        file_id("/invoice.typ"),
        include_str!("../templates/invoice.typ").to_owned(),
    ),
});

static DATA_ID: LazyLock<FileId> = LazyLock::new(|| file_id(DATA_PATH));

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// The fonts embedded in `typst-assets`, parsed once per process: parsing them is the costly
/// part of a first render, and `Font` is a cheap `Arc` handle afterwards.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// Parses fonts, templates and the standard library now instead of in the first request.
pub(crate) fn warm_up() {
    LazyLock::force(&FONTS);
    LazyLock::force(&LIBRARY);
    LazyLock::force(&COMMON);
    LazyLock::force(&CONTRACT);
    LazyLock::force(&INVOICE);
}

struct RenderWorld {
    main: Source,
    data: Bytes,
}

impl World for RenderWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == COMMON.id() {
            Ok(COMMON.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == *DATA_ID {
            Ok(self.data.clone())
        } else {
            // Only the data file is read as bytes; the templates never load images or other files.
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // No clock: every date printed comes from the data, so a render is reproducible.
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

/// Lays `template` out with `data` (the JSON of `view`) and exports the PDF.
pub(crate) fn render(template: &Template, data: Vec<u8>) -> Result<Vec<u8>, PdfError> {
    let world = RenderWorld {
        main: template.main.clone(),
        data: Bytes::new(data),
    };
    // typst reports errors as diagnostics, but a bug in it could still panic; the caller gets an
    // error either way rather than an unwinding blocking-pool thread.
    let result = catch_unwind(AssertUnwindSafe(|| {
        let options = PdfOptions {
            // Keeps the PDF's creation date out, so the same data gives the same bytes.
            timestamp: None,
            creator: Smart::Custom(Some("flexportal".to_owned())),
            ..PdfOptions::default()
        };
        // The document type is inferred from typst_pdf::pdf, which takes a paged document.
        typst::compile(&world)
            .output
            .and_then(|document| typst_pdf::pdf(&document, &options))
    }));
    typst::comemo::evict(CACHE_MAX_AGE);
    match result {
        Ok(Ok(pdf)) => Ok(pdf),
        Ok(Err(diagnostics)) => Err(PdfError::Render {
            detail: describe(&world, &diagnostics),
        }),
        Err(_) => Err(PdfError::Render {
            detail: "typst panicked".to_owned(),
        }),
    }
}

/// The diagnostics as one line each with their template line, for logs (never for end users:
/// a message may quote the data).
fn describe(world: &RenderWorld, diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let at = d
                .span
                .id()
                .and_then(|id| {
                    let range = world.range(d.span)?;
                    let line = world.source(id).ok()?.lines().byte_to_line(range.start)? + 1;
                    Some(format!("{:?}:{line}: ", id.vpath()))
                })
                .unwrap_or_default();
            format!("{at}{}", d.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(path: &str, text: &str) -> Template {
        Template {
            main: Source::new(file_id(path), text.to_owned()),
        }
    }

    fn fails(path: &str, text: &str) -> String {
        match render(&template(path, text), b"{}".to_vec()) {
            Err(PdfError::Render { detail }) => detail,
            other => panic!("{text:?} should fail to render, got {other:?}"),
        }
    }

    #[test]
    fn the_world_holds_nothing_but_templates_data_and_fonts() {
        // Even a template (never the data) that asks cannot reach files, packages or the clock.
        let detail = fails("/t1.typ", r#"#read("/etc/hostname")"#);
        assert!(detail.contains("not found"), "{detail}");
        let detail = fails("/t2.typ", r#"#read("../../../etc/hostname")"#);
        assert!(!detail.is_empty());
        let detail = fails("/t3.typ", r#"#import "@preview/cetz:0.3.4": canvas"#);
        assert!(!detail.is_empty());
        let detail = fails("/t4.typ", "#datetime.today()");
        assert!(!detail.is_empty());
    }

    #[test]
    fn details_name_the_template_line() {
        let detail = fails("/t5.typ", "ok\n#panic(\"boom\")");
        assert!(
            detail.contains("t5.typ") && detail.contains(":2:"),
            "{detail}"
        );
        assert_eq!(
            PdfError::Render { detail }.to_string(),
            "the document could not be rendered"
        );
    }

    #[test]
    fn the_data_file_is_json_from_the_caller() {
        let t = template("/t6.typ", r#"#json("/data.json").name"#);
        let pdf = render(&t, br#"{"name": "x"}"#.to_vec()).expect("renders");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn every_embedded_font_is_loaded() {
        let families: Vec<&str> = FONTS.book.families().map(|(name, _)| name).collect();
        for family in ["Libertinus Serif", "DejaVu Sans Mono"] {
            assert!(
                families.iter().any(|f| f.eq_ignore_ascii_case(family)),
                "{families:?}"
            );
        }
    }
}
