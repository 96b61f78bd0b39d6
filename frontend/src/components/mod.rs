//! Building blocks shared by the pages.

pub mod icons;
pub mod layout;
pub mod live_indicator;
pub mod states;
pub mod theme;
pub mod toast;
