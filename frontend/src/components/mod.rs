//! Building blocks shared by the pages.

pub mod dialog;
pub mod icons;
pub mod layout;
pub mod live_indicator;
pub mod states;
pub mod status;
pub mod theme;
pub mod toast;
