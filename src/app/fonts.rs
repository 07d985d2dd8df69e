//! Fonts for the scripts egui's own fonts lack. egui ships Latin, Greek and Cyrillic glyphs only,
//! so a Chinese, Japanese or Korean file (a Big5 register, a Shift_JIS price list) would show its
//! names and values as empty boxes while the database holds the right text. A CJK font is tens of
//! megabytes, too big to bundle: the first one found among the places operating systems install
//! them is added as the last fallback, read once when the window opens.

/// Fonts with Chinese, Japanese and Korean glyphs, by where Linux distributions, macOS and Windows
/// install them; the first that exists is used. A `.ttc` holds several faces: the first is read.
const CJK_FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\YuGothM.ttc",
    "C:\\Windows\\Fonts\\malgun.ttf",
    "C:\\Windows\\Fonts\\simsun.ttc",
];

/// Adds the first CJK font found as every family's last fallback. Returns its path, or `None`
/// when there is none (the text then shows as boxes, and is still stored as read).
pub fn add_cjk_fallback(ctx: &egui::Context) -> Option<&'static str> {
    let (path, bytes) = CJK_FONTS
        .iter()
        .find_map(|path| std::fs::read(path).ok().map(|bytes| (*path, bytes)))?;
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| egui::InsertFontFamily {
            family,
            priority: egui::FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(egui::FontInsert::new(
        "cjk-fallback",
        egui::FontData::from_owned(bytes),
        families,
    ));
    Some(path)
}
