//! Amazon QuickSight (restJson1) over firelocal's Athena: data sources, data sets (a query each,
//! with QuickSight's transforms and calculated fields), SPICE ingestions that snapshot rows, and
//! dashboards whose visuals are computed from those rows and served as data.

pub mod dataset;
pub mod error;
pub mod expr;
pub mod ops;
pub mod visual;
pub mod wire;

pub use ops::QuickSight;
