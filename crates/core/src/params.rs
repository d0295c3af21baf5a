//! Declaring an operator's parameters once: [`params!`](crate::params!),
//! [`choice!`](crate::choice!) and [`operators!`](crate::operators!).
//!
//! An operator's parameters used to be written three times: the [`ParamInfo`] table (docs and
//! recipe validation), the `spec.float("name", default, rng)` reads in `sample`, and the range
//! checks in `validate`. Here each parameter is declared **once**, as a field of the params
//! struct with its kind, default, range and unit, and its doc comment:
//!
//! ```
//! use artefact_core::{choice, params, ParamSpec, Seed};
//!
//! choice! {
//!     /// Which array axis is phase encoded.
//!     pub enum Axis {
//!         /// Array axis 0.
//!         Rows = "rows",
//!         /// Array axis 1.
//!         Cols = "cols",
//!     }
//! }
//!
//! params! {
//!     /// Parameters of a ghosting-like operator.
//!     pub struct GhostParams {
//!         /// phase-encode axis
//!         pub axis: Axis = choice(Axis::Rows),
//!         /// every `period`-th line is modulated
//!         pub period: usize = int(2, [2, 16], "lines"),
//!         /// amplitude loss of the modulated lines
//!         pub intensity: f64 = float(0.3, [0.0, 1.0], "fraction"),
//!         /// add the conjugate partner
//!         pub conjugate: bool = bool(false),
//!         /// seed of the noise realisation; drawn by `sample` unless fixed
//!         pub seed: u64 = seed,
//!         /// informative, filled by the operator's `resolve` (not a recipe parameter)
//!         #[serde(default, skip_serializing_if = "Option::is_none")]
//!         pub achieved: Option<f64> = derived(None),
//!     }
//! }
//!
//! // the documentation table (recipe validation, `artefact recipes ops`, generated docs)
//! assert_eq!(GhostParams::PARAMS.len(), 5);
//! assert_eq!(GhostParams::PARAMS[1].name, "period");
//! assert_eq!(GhostParams::PARAMS[2].doc, "amplitude loss of the modulated lines");
//! // sampling: every declared parameter, in declaration order, default when absent
//! let mut rng = Seed::from_u64(1).rng();
//! let p = GhostParams::sample(&ParamSpec::new(), &mut rng).unwrap();
//! assert_eq!((p.axis, p.period, p.intensity), (Axis::Rows, 2, 0.3));
//! // validation with the same bounds, errors naming the parameter
//! let bad = GhostParams { intensity: 1.5, ..p.clone() };
//! assert!(bad.validate().unwrap_err().to_string().contains("`intensity`"));
//! // each parameter is also a typed descriptor (for operators that sample a parameter
//! // several times, e.g. once per motion event)
//! assert_eq!(GhostParams::intensity.max, 1.0);
//! ```
//!
//! # Kinds
//! | declaration | field type | recipe value | notes |
//! |---|---|---|---|
//! | `float(default, [min, max], "unit")` | `f64` | number or `[lo, hi]` range | unit optional |
//! | `int(default, [min, max], "unit")` | any integer type | integer or `[lo, hi]` range | unit optional |
//! | `bool(default)` | `bool` | `true`/`false` | |
//! | `choice(Enum::Variant)` | an enum declared with [`choice!`](crate::choice!) | name or list of names | |
//! | `seed` | `u64` | integer ≥ 0 | [`ParamDefault::Sampled`]: drawn by `sample` when absent |
//! | `required_float([min, max], "unit")` | `f64` | number or range | [`ParamDefault::Required`] |
//! | `sampled_float([min, max], "unit")` | `f64` | number or range | [`ParamDefault::Sampled`]: uniform in `[min, max)` when absent |
//! | `derived(expr)` | any | — | recorded but not a recipe parameter: `sample` sets `expr`, no table row |
//!
//! What the macro generates for `struct P`:
//! - the struct itself, with `Clone, Debug, PartialEq, Serialize, Deserialize` (the user crate
//!   must depend on `serde`); field attributes `#[serde(...)]` are passed through (write them
//!   *after* the doc comment);
//! - `P::PARAMS: &'static [ParamInfo]`, the table, in declaration order (derived fields left
//!   out); the doc comment of a field is its `doc` (lines joined by spaces);
//! - one associated constant per parameter, named like the field (`P::intensity`), a typed
//!   descriptor ([`FloatParam`], [`IntParam`], [`BoolParam`], [`ChoiceParam`], [`SeedParam`])
//!   with `info()`, `sample(spec, rng)` and `check(value)`;
//! - `P::sample(spec, rng) -> Result<P, CoreError>`: every parameter in **declaration order**
//!   (the order of the RNG draws, hence of the recorded values), each checked against its
//!   range; `P::validate(&self)`: the same range checks on a recorded value (use it in
//!   `apply`, so a replayed manifest is checked too). Errors are
//!   [`CoreError::Spec`] naming the parameter.
//!
//! Operators whose recorded params are not simply the recipe knobs (e.g. one event per motion
//! draw) declare the knobs with `params!` as a separate struct and build their record from it
//! (or from the descriptors) in `sample`.

use crate::{CoreError, ParamDefault, ParamInfo, ParamKind, ParamSpec, Result, SampleRng};
use rand::Rng;
use std::marker::PhantomData;

/// The doc text of a parameter: the doc-comment lines joined, surrounding blanks trimmed.
pub const fn doc_text(s: &'static str) -> &'static str {
    s.trim_ascii()
}

fn out_of_range(
    name: &str,
    v: impl std::fmt::Display,
    min: impl std::fmt::Display,
    max: impl std::fmt::Display,
    unit: &str,
) -> CoreError {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    CoreError::spec(name, format!("{v} is outside [{min}, {max}]{unit}"))
}

/// Default of a [`FloatParam`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FloatDefault {
    /// This value when the spec does not give the parameter.
    Value(f64),
    /// The spec must give it.
    Required,
    /// Drawn uniformly from `[min, max)` with the sampling RNG when absent
    /// ([`ParamDefault::Sampled`]; e.g. a random orientation).
    Sampled,
}

/// A floating-point parameter (recorded as `f64`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatParam {
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    pub default: FloatDefault,
    pub unit: &'static str,
    pub doc: &'static str,
}

impl FloatParam {
    pub const fn info(&self) -> ParamInfo {
        ParamInfo {
            name: self.name,
            kind: ParamKind::Float {
                min: self.min,
                max: self.max,
            },
            default: match self.default {
                FloatDefault::Value(v) => ParamDefault::Float(v),
                FloatDefault::Required => ParamDefault::Required,
                FloatDefault::Sampled => ParamDefault::Sampled,
            },
            unit: self.unit,
            doc: self.doc,
        }
    }

    /// The fixed value, a uniform draw from the range, or the default; range-checked.
    pub fn sample(&self, spec: &ParamSpec, rng: &mut SampleRng) -> Result<f64> {
        let v = match (self.default, spec.get(self.name)) {
            (FloatDefault::Value(d), _) => spec.float(self.name, d, rng)?,
            (FloatDefault::Required, None) => {
                return Err(CoreError::spec(self.name, "is required"))
            }
            (FloatDefault::Sampled, None) => rng.random_range(self.min..self.max),
            (_, Some(_)) => spec.float(self.name, 0.0, rng)?,
        };
        self.check(v)?;
        Ok(v)
    }

    /// `v` is finite and within `[min, max]`.
    pub fn check(&self, v: f64) -> Result<()> {
        if v.is_finite() && v >= self.min && v <= self.max {
            Ok(())
        } else {
            Err(out_of_range(self.name, v, self.min, self.max, self.unit))
        }
    }
}

/// Integer types a declared `int` parameter can be recorded as.
pub trait IntValue: Copy {
    fn from_i64(v: i64) -> Option<Self>;
    fn to_i128(self) -> i128;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl IntValue for $t {
            fn from_i64(v: i64) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
            fn to_i128(self) -> i128 {
                self as i128
            }
        }
    )*};
}
int_value!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

/// An integer parameter recorded as `T`.
#[derive(Debug)]
pub struct IntParam<T> {
    pub name: &'static str,
    pub min: i64,
    pub max: i64,
    pub default: i64,
    pub unit: &'static str,
    pub doc: &'static str,
    pub _type: PhantomData<fn() -> T>,
}

impl<T> Clone for IntParam<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for IntParam<T> {}

impl<T: IntValue> IntParam<T> {
    pub const fn info(&self) -> ParamInfo {
        ParamInfo {
            name: self.name,
            kind: ParamKind::Int {
                min: self.min,
                max: self.max,
            },
            default: ParamDefault::Int(self.default),
            unit: self.unit,
            doc: self.doc,
        }
    }

    /// The fixed value, a uniform draw from the inclusive range, or the default; range-checked.
    pub fn sample(&self, spec: &ParamSpec, rng: &mut SampleRng) -> Result<T> {
        let v = spec.int(self.name, self.default, rng)?;
        if v < self.min || v > self.max {
            return Err(out_of_range(self.name, v, self.min, self.max, self.unit));
        }
        T::from_i64(v).ok_or_else(|| CoreError::spec(self.name, format!("{v} does not fit")))
    }

    /// `v` is within `[min, max]`.
    pub fn check(&self, v: T) -> Result<()> {
        let w = v.to_i128();
        if w < self.min as i128 || w > self.max as i128 {
            Err(out_of_range(self.name, w, self.min, self.max, self.unit))
        } else {
            Ok(())
        }
    }
}

/// A boolean parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoolParam {
    pub name: &'static str,
    pub default: bool,
    pub doc: &'static str,
}

impl BoolParam {
    pub const fn info(&self) -> ParamInfo {
        ParamInfo {
            name: self.name,
            kind: ParamKind::Bool,
            default: ParamDefault::Bool(self.default),
            unit: "",
            doc: self.doc,
        }
    }

    pub fn sample(&self, spec: &ParamSpec, _rng: &mut SampleRng) -> Result<bool> {
        spec.bool(self.name, self.default)
    }

    pub fn check(&self, _v: bool) -> Result<()> {
        Ok(())
    }
}

/// An enumeration of named choices, declared with [`choice!`](crate::choice!).
pub trait Choice: Copy + 'static {
    /// The names, in declaration order (what recipes and records use).
    const NAMES: &'static [&'static str];
    /// The variants, in the order of [`Self::NAMES`].
    const VARIANTS: &'static [Self];
    /// The variant called `name`.
    fn from_name(name: &str) -> Option<Self>;
    /// The name of this variant.
    fn to_name(self) -> &'static str;
}

/// A choice parameter recorded as the enum `E`.
#[derive(Debug)]
pub struct ChoiceParam<E> {
    pub name: &'static str,
    pub default: E,
    /// Name of `default` (kept beside it for the const table).
    pub default_name: &'static str,
    pub doc: &'static str,
}

impl<E: Copy> Clone for ChoiceParam<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E: Copy> Copy for ChoiceParam<E> {}

impl<E: Choice> ChoiceParam<E> {
    pub const fn info(&self) -> ParamInfo {
        ParamInfo {
            name: self.name,
            kind: ParamKind::Choice { allowed: E::NAMES },
            default: ParamDefault::Choice(self.default_name),
            unit: "",
            doc: self.doc,
        }
    }

    /// The fixed name, a uniform pick from a list of names, or the default.
    pub fn sample(&self, spec: &ParamSpec, rng: &mut SampleRng) -> Result<E> {
        let s = spec.choice(self.name, E::NAMES, self.default_name, rng)?;
        E::from_name(&s).ok_or_else(|| {
            CoreError::spec(
                self.name,
                format!("`{s}` is not allowed (allowed: {})", E::NAMES.join(", ")),
            )
        })
    }

    pub fn check(&self, _v: E) -> Result<()> {
        Ok(())
    }
}

/// A seed of a noise realisation: drawn from the sampling stream (`rng.random::<u64>()`) when
/// the spec does not fix it ([`ParamDefault::Sampled`]), so the recorded params replay it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedParam {
    pub name: &'static str,
    pub doc: &'static str,
}

impl SeedParam {
    pub const fn info(&self) -> ParamInfo {
        ParamInfo {
            name: self.name,
            kind: ParamKind::Int {
                min: 0,
                max: i64::MAX,
            },
            default: ParamDefault::Sampled,
            unit: "",
            doc: self.doc,
        }
    }

    pub fn sample(&self, spec: &ParamSpec, rng: &mut SampleRng) -> Result<u64> {
        match spec.get(self.name) {
            None => Ok(rng.random()),
            Some(_) => {
                let s = spec.int(self.name, 0, rng)?;
                u64::try_from(s)
                    .map_err(|_| CoreError::spec(self.name, format!("must be ≥ 0, got {s}")))
            }
        }
    }

    pub fn check(&self, _v: u64) -> Result<()> {
        Ok(())
    }
}

/// Something that accepts operators (a registry, a documentation generator, a test walking
/// every operator). Physics crates list their operators with [`operators!`](crate::operators!),
/// which generates `pub fn visit_operators(v: &mut impl OpVisitor)`.
pub trait OpVisitor {
    fn visit<O: crate::Operator + 'static>(&mut self);

    /// The operator just visited also has a 3-D form ([`crate::VolumeOperator`]); listed as
    /// `Op [volume]` in [`operators!`](crate::operators!). Visitors that only care about the
    /// 2-D form ignore it.
    fn volume<O: crate::VolumeOperator + 'static>(&mut self) {}
}

/// Declares a params struct whose fields are the operator's parameters; see the
/// [module documentation](mod@crate::params) for the syntax and what is generated.
///
/// Field syntax: `/// doc` lines, then optional `#[serde(...)]` attributes, then
/// `pub name: Type = kind(args),` (or `= seed,`).
#[macro_export]
macro_rules! params {
    (
        $(#[$sattr:meta])*
        $vis:vis struct $Name:ident {
            $(
                $(#[doc = $doc:literal])*
                $(#[serde($($serde:tt)*)])*
                $fvis:vis $f:ident : $ty:ty = $kind:ident $( ( $($arg:tt)* ) )?
            ),* $(,)?
        }
    ) => {
        $(#[$sattr])*
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        $vis struct $Name {
            $(
                $(#[doc = $doc])*
                $(#[serde($($serde)*)])*
                $fvis $f: $ty,
            )*
        }

        #[allow(non_upper_case_globals, dead_code)]
        impl $Name {
            $(
                $crate::params!(@const $f $ty, $kind ($($($arg)*)?), [$($doc),*]);
            )*

            /// The parameter table, in declaration order.
            pub const PARAMS: &'static [$crate::ParamInfo] =
                $crate::params!(@infos [] $( [$kind $f] )*);

            /// Sample every parameter from `spec` in declaration order (absent: default),
            /// each checked against its declared range.
            pub fn sample(
                spec: &$crate::ParamSpec,
                rng: &mut $crate::SampleRng,
            ) -> ::std::result::Result<Self, $crate::CoreError> {
                let _ = (&spec, &rng);
                Ok($Name {
                    $( $f: $crate::params!(@sample $f, $kind ($($($arg)*)?), spec, rng), )*
                })
            }

            /// Check every declared parameter against its range (derived fields are not
            /// checked here).
            pub fn validate(&self) -> ::std::result::Result<(), $crate::CoreError> {
                $( $crate::params!(@check self, $f, $kind); )*
                Ok(())
            }
        }
    };

    // ---- descriptors (associated constants named like the fields)
    (@const $f:ident $ty:ty, float ($d:expr, [$min:expr, $max:expr] $(, $unit:literal)?), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::FloatParam = $crate::params::FloatParam {
            name: stringify!($f), min: $min, max: $max,
            default: $crate::params::FloatDefault::Value($d),
            unit: $crate::params!(@unit $($unit)?), doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
        };
    };
    (@const $f:ident $ty:ty, required_float ([$min:expr, $max:expr] $(, $unit:literal)?), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::FloatParam = $crate::params::FloatParam {
            name: stringify!($f), min: $min, max: $max,
            default: $crate::params::FloatDefault::Required,
            unit: $crate::params!(@unit $($unit)?), doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
        };
    };
    (@const $f:ident $ty:ty, sampled_float ([$min:expr, $max:expr] $(, $unit:literal)?), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::FloatParam = $crate::params::FloatParam {
            name: stringify!($f), min: $min, max: $max,
            default: $crate::params::FloatDefault::Sampled,
            unit: $crate::params!(@unit $($unit)?), doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
        };
    };
    (@const $f:ident $ty:ty, int ($d:expr, [$min:expr, $max:expr] $(, $unit:literal)?), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::IntParam<$ty> = $crate::params::IntParam {
            name: stringify!($f), min: $min, max: $max, default: $d,
            unit: $crate::params!(@unit $($unit)?), doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
            _type: ::std::marker::PhantomData,
        };
    };
    (@const $f:ident $ty:ty, bool ($d:expr), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::BoolParam = $crate::params::BoolParam {
            name: stringify!($f), default: $d, doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
        };
    };
    (@const $f:ident $ty:ty, choice ($d:expr), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::ChoiceParam<$ty> = $crate::params::ChoiceParam {
            name: stringify!($f), default: $d, default_name: $d.name(), doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
        };
    };
    (@const $f:ident $ty:ty, seed (), [$($doc:literal),*]) => {
        #[doc = concat!("" $(, $doc)*)]
        pub const $f: $crate::params::SeedParam = $crate::params::SeedParam {
            name: stringify!($f), doc: $crate::params::doc_text(concat!("" $(, $doc)*)),
        };
    };
    (@const $f:ident $ty:ty, derived ($e:expr), [$($doc:literal),*]) => {};

    (@unit) => { "" };
    (@unit $u:literal) => { $u };

    // ---- the table: a muncher that leaves derived fields out
    (@infos [$($acc:tt)*]) => { &[$($acc)*] };
    (@infos [$($acc:tt)*] [derived $f:ident] $($rest:tt)*) => {
        $crate::params!(@infos [$($acc)*] $($rest)*)
    };
    (@infos [$($acc:tt)*] [$kind:ident $f:ident] $($rest:tt)*) => {
        $crate::params!(@infos [$($acc)* Self::$f.info(),] $($rest)*)
    };

    // ---- sampling and checking
    (@sample $f:ident, derived ($e:expr), $spec:ident, $rng:ident) => { $e };
    (@sample $f:ident, $kind:ident ($($arg:tt)*), $spec:ident, $rng:ident) => {
        Self::$f.sample($spec, $rng)?
    };
    (@check $s:ident, $f:ident, derived) => {};
    (@check $s:ident, $f:ident, $kind:ident) => {
        Self::$f.check($s.$f.clone())?
    };
}

/// Declares an enumeration of named choices (a `choice` parameter's type): the enum with
/// `Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize` (serialised as its
/// name), `NAMES`, `const fn name(self)`, `parse(&str)` (error text lists what is allowed),
/// `Display` and [`Choice`]. Extra attributes (e.g. `#[derive(Default)]`, `#[default]` on a
/// variant) are passed through.
///
/// ```
/// artefact_core::choice! {
///     /// Apodisation window.
///     pub enum Window {
///         /// Rectangular.
///         None = "none",
///         Hann = "hann",
///     }
/// }
/// assert_eq!(Window::NAMES, &["none", "hann"]);
/// assert_eq!(Window::parse("hann").unwrap(), Window::Hann);
/// assert!(Window::parse("tukey").unwrap_err().to_string().contains("allowed: none, hann"));
/// ```
#[macro_export]
macro_rules! choice {
    (
        $(#[$attr:meta])*
        $vis:vis enum $Name:ident {
            $( $(#[$vattr:meta])* $v:ident = $s:literal ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        $vis enum $Name {
            $( $(#[$vattr])* #[serde(rename = $s)] $v, )*
        }

        impl $Name {
            /// The names, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($s),*];

            /// The name of this variant (as in recipes and records).
            pub const fn name(self) -> &'static str {
                match self {
                    $( $Name::$v => $s, )*
                }
            }

            /// The variant called `s`; the error lists the allowed names.
            pub fn parse(s: &str) -> ::std::result::Result<Self, $crate::CoreError> {
                match s {
                    $( $s => Ok($Name::$v), )*
                    _ => Err($crate::CoreError::Invalid(format!(
                        "`{s}` is not allowed (allowed: {})",
                        Self::NAMES.join(", ")
                    ))),
                }
            }
        }

        impl $crate::params::Choice for $Name {
            const NAMES: &'static [&'static str] = &[$($s),*];
            const VARIANTS: &'static [Self] = &[$($Name::$v),*];
            fn from_name(name: &str) -> Option<Self> {
                Self::parse(name).ok()
            }
            fn to_name(self) -> &'static str {
                self.name()
            }
        }

        impl ::std::fmt::Display for $Name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// Lists a crate's operators in one place (its `lib.rs`): generates
/// `pub fn visit_operators(v: &mut impl OpVisitor)` calling `v.visit::<Op>()` for each, in the
/// given order (the registry order), and `OPERATOR_COUNT`. An operator that also implements
/// [`VolumeOperator`](crate::VolumeOperator) is marked `[volume]`, which adds
/// `v.volume::<Op>()` right after its visit.
///
/// ```ignore
/// artefact_core::operators! {
///     ghosting::Ghosting,
///     motion::Motion [volume],
///     noise::Noise,
/// }
/// ```
#[macro_export]
macro_rules! operators {
    ( $( $op:path $( [ $form:ident ] )? ),* $(,)? ) => {
        /// Visit every operator of this crate, in registry order.
        pub fn visit_operators<V: $crate::params::OpVisitor + ?Sized>(v: &mut V) {
            $( v.visit::<$op>(); $( v.$form::<$op>(); )? )*
        }

        /// Number of operators of this crate.
        pub const OPERATOR_COUNT: usize = [$(stringify!($op)),*].len();
    };
}
