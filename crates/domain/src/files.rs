//! Stored files: their types, what their bytes are, and the names and headers they are served
//! under.
//!
//! A file's media type is judged from its bytes alone. A client's `Content-Type` is never
//! believed, so a file served back inline is always one of a short list of types a browser
//! renders harmlessly (no HTML, no SVG): anything else is `application/octet-stream`.

/// The kinds of file a business unit keeps.
pub const FILE_TYPES: &[&str] = &["contract", "invoice", "document", "attachment"];

/// The largest file accepted: 25 MiB.
pub const MAX_FILE_BYTES: usize = 25 * 1024 * 1024;

pub const OCTET_STREAM: &str = "application/octet-stream";
pub const PDF: &str = "application/pdf";
pub const PNG: &str = "image/png";
pub const JPEG: &str = "image/jpeg";
pub const GIF: &str = "image/gif";
pub const WEBP: &str = "image/webp";
pub const ZIP: &str = "application/zip";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
pub const CSV: &str = "text/csv";
pub const TEXT: &str = "text/plain";

/// The media type of `bytes`, judged from their content alone.
pub fn sniff(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(1024)];
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        PNG
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        JPEG
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        GIF
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        WEBP
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        office_kind(bytes)
    // Readers accept the header anywhere in the first kilobyte, after junk some tools prepend.
    } else if contains(head, b"%PDF-") {
        PDF
    } else if let Some(text) = as_text(bytes) {
        if looks_like_csv(text) { CSV } else { TEXT }
    } else {
        OCTET_STREAM
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Text a browser shows as text: UTF-8 (a byte order mark allowed) without control characters
/// other than tab, line and page breaks.
fn as_text(bytes: &[u8]) -> Option<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).ok()?;
    let clean = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c'));
    clean.then_some(text)
}

/// At least two lines, each with the same non-zero number of one delimiter outside quotes.
fn looks_like_csv(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .collect();
    if lines.len() < 2 {
        return false;
    }
    [',', ';', '\t'].iter().any(|&delimiter| {
        let first = delimiters(lines[0], delimiter);
        first > 0 && lines.iter().all(|l| delimiters(l, delimiter) == first)
    })
}

fn delimiters(line: &str, delimiter: char) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if c == delimiter && !quoted {
            count += 1;
        }
    }
    count
}

/// Word, Excel and PowerPoint files are ZIP archives told apart by the parts they hold, which
/// the archive's central directory lists at its end.
fn office_kind(bytes: &[u8]) -> &'static str {
    let names = zip_entry_names(bytes).unwrap_or_default();
    if !names.iter().any(|n| *n == b"[Content_Types].xml") {
        return ZIP;
    }
    for (folder, kind) in [
        (&b"word/"[..], DOCX),
        (&b"xl/"[..], XLSX),
        (&b"ppt/"[..], PPTX),
    ] {
        if names.iter().any(|n| n.starts_with(folder)) {
            return kind;
        }
    }
    ZIP
}

fn u16_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]) as usize)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// The entry names of a ZIP archive's central directory; `None` when it cannot be found.
fn zip_entry_names(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    const END: &[u8] = b"PK\x05\x06";
    const ENTRY: &[u8] = b"PK\x01\x02";
    // The end record is 22 bytes plus a comment of at most 65,535.
    let last = bytes.len().checked_sub(22)?;
    let first = last.saturating_sub(65_535);
    let end = (first..=last)
        .rev()
        .find(|&i| bytes.get(i..i + 4) == Some(END))?;
    let entries = u16_at(bytes, end + 10)?;
    let mut at = u32_at(bytes, end + 16)?;
    let mut names = Vec::with_capacity(entries.min(1024));
    for _ in 0..entries.min(1024) {
        if bytes.get(at..at + 4)? != ENTRY {
            break;
        }
        let name_len = u16_at(bytes, at + 28)?;
        let extra_len = u16_at(bytes, at + 30)?;
        let comment_len = u16_at(bytes, at + 32)?;
        names.push(bytes.get(at + 46..at + 46 + name_len)?);
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

/// A file name fit to show and to send back in a header: the last component of whatever path
/// the client sent, without control characters, at most 255 characters; `file` when nothing
/// is left.
pub fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        "file".to_string()
    } else {
        trimmed.to_string()
    }
}

/// How a signed link hands the file over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Shown in the browser (`Content-Disposition: inline`).
    View,
    /// Saved (`Content-Disposition: attachment`).
    Download,
}

impl Disposition {
    pub fn parse(text: &str) -> Option<Disposition> {
        match text {
            "view" => Some(Disposition::View),
            "download" => Some(Disposition::Download),
            _ => None,
        }
    }

    /// The name on the wire: `view` or `download`.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::View => "view",
            Disposition::Download => "download",
        }
    }

    /// The `Content-Disposition` header for `filename`: a quoted ASCII fallback for old
    /// clients and the exact name in RFC 5987 form for the rest.
    pub fn header(self, filename: &str) -> String {
        let kind = match self {
            Disposition::View => "inline",
            Disposition::Download => "attachment",
        };
        let fallback: String = filename
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut encoded = String::with_capacity(filename.len() * 3);
        for byte in filename.bytes() {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                encoded.push(char::from(byte));
            } else {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
        format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A ZIP archive with empty stored entries named `names`, as OOXML writers lay them out.
    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for name in names {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 12]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            directory.extend_from_slice(b"PK\x01\x02");
            directory.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            directory.extend_from_slice(&[0; 12]);
            directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]);
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let directory_at = out.len() as u32;
        out.extend_from_slice(&directory);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        out.extend_from_slice(&directory_at.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn known_formats_by_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"), PDF);
        assert_eq!(sniff(b"\x00\x00junk%PDF-1.4\n"), PDF);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), PNG);
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), JPEG);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), GIF);
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), GIF);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), WEBP);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), OCTET_STREAM);
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "word/document.xml"])),
            DOCX
        );
        assert_eq!(
            sniff(&zip_with(&[
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml"
            ])),
            XLSX
        );
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "ppt/presentation.xml"])),
            PPTX
        );
        assert_eq!(sniff(&zip_with(&["word/document.xml"])), ZIP);
        assert_eq!(sniff(&zip_with(&["photo.jpg"])), ZIP);
        // Cut off before its directory: still a ZIP, of unknown content.
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0"), ZIP);
        assert_eq!(sniff(b"a,b,c\n1,2,3\n4,5,6\n"), CSV);
        assert_eq!(sniff(b"\xEF\xBB\xBFname;amount\r\nAda;12\r\n"), CSV);
        assert_eq!(sniff(b"name,note\n\"Ada\",\"says, hi\"\n"), CSV);
        assert_eq!(sniff(b"Hello, world.\nSecond line here\n"), TEXT);
        assert_eq!(sniff("Grüße\n".as_bytes()), TEXT);
        assert_eq!(sniff(b"a,b\n"), TEXT);
        // Markup is text, never HTML: it is served as text/plain.
        assert_eq!(sniff(b"<html><script>alert(1)</script></html>"), TEXT);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), TEXT);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), OCTET_STREAM);
        assert_eq!(sniff(b"\xFF\xFE\0\0"), OCTET_STREAM);
        assert_eq!(sniff(b""), OCTET_STREAM);
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(
            safe_filename("C:\\Users\\ada\\contract.pdf"),
            "contract.pdf"
        );
        assert_eq!(safe_filename("bad\r\nname.txt"), "badname.txt");
        assert_eq!(safe_filename("  "), "file");
        assert_eq!(safe_filename("dir/"), "file");
        assert_eq!(safe_filename(".."), "file");
        assert_eq!(safe_filename(&"x".repeat(300)).chars().count(), 255);
        assert_eq!(safe_filename("Vertrag Müller.pdf"), "Vertrag Müller.pdf");
    }

    #[test]
    fn disposition_headers() {
        assert_eq!(
            Disposition::View.header("a b.pdf"),
            "inline; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf"
        );
        assert_eq!(
            Disposition::Download.header("Müller \"x\".pdf"),
            "attachment; filename=\"M_ller _x_.pdf\"; filename*=UTF-8''M%C3%BCller%20%22x%22.pdf"
        );
        assert_eq!(Disposition::parse("view"), Some(Disposition::View));
        assert_eq!(Disposition::parse("download"), Some(Disposition::Download));
        assert_eq!(Disposition::parse("upload"), None);
    }

    proptest! {
        #[test]
        fn sniffing_never_panics_and_names_a_known_type(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let kind = sniff(&bytes);
            prop_assert!([OCTET_STREAM, PDF, PNG, JPEG, GIF, WEBP, ZIP, DOCX, XLSX, PPTX, CSV, TEXT].contains(&kind));
        }

        #[test]
        fn a_mangled_zip_directory_is_read_safely(
            names in proptest::collection::vec("[a-z/\\[\\]_.]{1,20}", 0..6),
            at in 0usize..400,
            byte: u8,
        ) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut zip = zip_with(&refs);
            if !zip.is_empty() {
                let i = at % zip.len();
                zip[i] = byte;
            }
            let _ = sniff(&zip);
        }

        #[test]
        fn headers_stay_one_printable_line(name in "\\PC{0,40}") {
            for d in [Disposition::View, Disposition::Download] {
                let header = d.header(&safe_filename(&name));
                prop_assert!(header.chars().all(|c| c.is_ascii_graphic() || c == ' '));
            }
        }
    }
}
