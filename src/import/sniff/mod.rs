//! Sniffing and typing: how a file is laid out (dialect, encoding, where the table starts and
//! ends, its header) and what type each column is, guessed from a sample before any row is written.

pub(super) mod column_names;
pub(super) mod dialect_guess;
pub(super) mod file_layout;
pub(super) mod footnotes;
pub(super) mod header_guess;
pub(super) mod header_repair;
pub(super) mod hints;
pub(super) mod layout;
pub(super) mod layout_choice;
pub(super) mod layout_read;
pub(super) mod notes;
pub(super) mod null_convention;
pub(super) mod number_evidence;
pub(super) mod sample;
pub(super) mod several_files;
pub(super) mod side_tables;
pub(super) mod sniffed;
pub(super) mod sniffer;
pub(super) mod spec_fields;
pub(super) mod split_header;
pub(super) mod table_end;
pub(super) mod type_guess;
pub(super) mod types;
pub(super) mod value_fit;
pub(super) mod value_formats;
