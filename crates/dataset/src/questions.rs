//! Perception questions (MedQ-Bench style): yes-or-no, what, how — built so that nothing but
//! the pixels answers them.
//!
//! - **yes-or-no** (options `Yes`, `No`): three families — presence ("Are there motion
//!   artifacts …?"), absence ("Is this image free of motion artifacts?") and acceptability
//!   ("Is the quality … acceptable for diagnosis?"). Within every stratum (split × modality ×
//!   level) half of the answers are Yes, so "Yes iff degraded" scores chance; the family and
//!   target attribute of each question are then chosen so that Yes and No stay balanced (within
//!   one) for every family, every (modality, family) and every (modality, family, attribute), so
//!   the question text alone predicts nothing. This caps the yes-or-no questions a set of images
//!   can supply at about four per degraded image (a degraded image is the only source of a Yes
//!   to "is there [its attribute]" and of a No to "is it free of [its attribute]") plus the
//!   acceptability questions; the builder reports a shortfall beyond that.
//! - **what** (up to 4 options of distinct, non-confusable phenomena, [`NO_ARTIFACT`] among
//!   them as one class like the attributes): one per image; the answers are dealt round-robin
//!   over the classes (each attribute, and "none"), so "No obvious artifact" is never the
//!   answer more often than any attribute, and the option sets are drawn so that every class
//!   is offered as often when it is the answer as when it is not (`OptionDesign`).
//! - **how**: one per image, either the overall grade (Good / Usable / Reject) or the level of a
//!   named attribute (Not present / Mild / Severe), options in ordinal order; answers dealt
//!   round-robin over the six (family, answer) cells. An image never gets both (their answers
//!   would be the same mapping).
//!
//! No (image, question) is asked twice. Counts per split follow the split's share of images;
//! when the images cannot supply what the recipe asks, the shortfall is reported per type and
//! split. Everything is seeded; row order is shuffled later by the builder.

use crate::generate::ManifestRow;
use crate::plan::opaque_id;
use crate::text::{
    grade_option, question, severity_option, Family, Noun, GRADE_OPTIONS, LEVEL_OPTIONS,
    NO_ARTIFACT, YES_NO_OPTIONS,
};
use artefact_core::{Modality, QualityGrade, SampleRng, Seed, Severity};
use artefact_recipe::{AttributeRecipe, BenchmarkRecipe};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

/// One row of `perception.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub index: usize,
    /// Opaque id.
    pub id: String,
    pub image_id: String,
    pub split: String,
    /// Full modality name.
    pub modality: String,
    /// `yes-or-no`, `what` or `how`.
    pub question_type: String,
    /// Degradation level of the image: none, mild or severe.
    pub level: Severity,
    /// MedQ-Bench category: `general` or `modality-specific`.
    pub category: String,
    /// Question family (presence, absence, acceptable, what, grade, level).
    pub family: String,
    /// The image's attribute (`None` for a clean image): curator information.
    pub attribute: Option<String>,
    /// The attribute the question names, if any.
    pub target: Option<String>,
    pub question: String,
    /// Option texts in letter order (2 to 4).
    pub options: Vec<String>,
    /// Letter of the correct option.
    pub answer: String,
}

/// What the images could not supply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shortfall {
    /// `yes-or-no`, `what`, `how`, `coarse` or `fine`.
    pub kind: String,
    pub split: String,
    pub requested: usize,
    pub made: usize,
}

/// The facts about an image that question and pair generation may use.
#[derive(Clone, Debug)]
pub struct ImageFacts {
    pub id: String,
    pub split: String,
    pub modality: Modality,
    pub attribute: Option<String>,
    pub severity: Severity,
    pub grade: QualityGrade,
}

impl ImageFacts {
    pub fn of(r: &ManifestRow) -> ImageFacts {
        ImageFacts {
            id: r.id.clone(),
            split: r.split.clone(),
            modality: r.modality.parse().unwrap_or(Modality::Other),
            attribute: r.attribute.clone(),
            severity: r.severity,
            grade: r.quality_grade,
        }
    }
}

/// Largest-remainder allocation of `total` over `weights`.
pub fn allocate(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    if total == 0 || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - out[b] as f64)
            .total_cmp(&(exact[a] - out[a] as f64))
            .then(a.cmp(&b))
    });
    let mut left = total - out.iter().sum::<usize>();
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// Greedy balancer of the correct option's letter position.
#[derive(Default)]
struct LetterBalance {
    counts: [usize; 4],
}

impl LetterBalance {
    fn pick(&mut self, n_options: usize, rng: &mut SampleRng) -> usize {
        let min = *self.counts[..n_options].iter().min().expect("options");
        let ties: Vec<usize> = (0..n_options).filter(|&i| self.counts[i] == min).collect();
        let p = ties[rng.random_range(0..ties.len())];
        self.counts[p] += 1;
        p
    }
}

fn attrs_of(bench: &BenchmarkRecipe, m: Modality) -> Vec<&AttributeRecipe> {
    bench
        .attributes
        .iter()
        .filter(|a| a.modality == m)
        .collect()
}

fn confusable(a: &AttributeRecipe, b: &AttributeRecipe) -> bool {
    a.confusable.contains(&b.name) || b.confusable.contains(&a.name)
}

struct Maker<'a> {
    bench: &'a BenchmarkRecipe,
    build_key: &'a str,
    out: Vec<Question>,
}

impl Maker<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        img: &ImageFacts,
        qtype: &str,
        family: Family,
        target: Option<&AttributeRecipe>,
        options: Vec<String>,
        correct: usize,
        rng: &mut SampleRng,
    ) {
        let m = img.modality.display_name();
        let k = rng.random_range(0..family.phrasings());
        let text = question(family, target.map(Noun::of), m, k);
        self.out.push(Question {
            index: 0,
            id: opaque_id(self.build_key, "question", &format!("{}\0{text}", img.id)),
            image_id: img.id.clone(),
            split: img.split.clone(),
            modality: m.to_string(),
            question_type: qtype.to_string(),
            level: img.severity,
            category: family.category().to_string(),
            family: format!("{family:?}").to_lowercase(),
            attribute: img.attribute.clone(),
            target: target.map(|t| t.name.clone()),
            question: text,
            options,
            answer: LETTERS[correct].to_string(),
        });
    }
}

/// Images of one split grouped into strata, with the split's share of `total`.
fn per_split<'a>(
    bench: &BenchmarkRecipe,
    images: &'a [ImageFacts],
    total: usize,
) -> Vec<(String, usize, Vec<&'a ImageFacts>)> {
    let names: Vec<&String> = bench.splits.iter().map(|(n, _)| n).collect();
    let shares: Vec<f64> = names
        .iter()
        .map(|s| images.iter().filter(|r| &&r.split == s).count() as f64)
        .collect();
    let counts = allocate(total, &shares);
    names
        .into_iter()
        .zip(counts)
        .map(|(n, c)| {
            (
                n.clone(),
                c,
                images.iter().filter(|r| &r.split == n).collect(),
            )
        })
        .collect()
}

/// Make all perception questions; also returns what could not be made.
pub fn make_questions(
    bench: &BenchmarkRecipe,
    images: &[ImageFacts],
    build_key: &str,
) -> (Vec<Question>, Vec<Shortfall>) {
    let mut mk = Maker {
        bench,
        build_key,
        out: Vec::new(),
    };
    let mut short = Vec::new();
    for (split, n, imgs) in per_split(bench, images, bench.yes_no) {
        let made = yes_no(&mut mk, &split, n, &imgs);
        if made < n {
            short.push(Shortfall {
                kind: "yes-or-no".into(),
                split: split.clone(),
                requested: n,
                made,
            });
        }
    }
    for (split, n, imgs) in per_split(bench, images, bench.what) {
        let made = what(&mut mk, &split, n, &imgs);
        if made < n {
            short.push(Shortfall {
                kind: "what".into(),
                split: split.clone(),
                requested: n,
                made,
            });
        }
    }
    for (split, n, imgs) in per_split(bench, images, bench.how) {
        let made = how(&mut mk, &split, n, &imgs);
        if made < n {
            short.push(Shortfall {
                kind: "how".into(),
                split: split.clone(),
                requested: n,
                made,
            });
        }
    }
    (mk.out, short)
}

/// Modalities present in `imgs`, in order.
fn modalities(imgs: &[&ImageFacts]) -> Vec<Modality> {
    let s: BTreeSet<Modality> = imgs.iter().map(|r| r.modality).collect();
    s.into_iter().collect()
}

/// Split `n` over the modalities by image count.
fn by_modality<'a>(
    imgs: &[&'a ImageFacts],
    n: usize,
) -> Vec<(Modality, usize, Vec<&'a ImageFacts>)> {
    let mods = modalities(imgs);
    let pools: Vec<Vec<&ImageFacts>> = mods
        .iter()
        .map(|m| imgs.iter().copied().filter(|r| r.modality == *m).collect())
        .collect();
    let w: Vec<f64> = pools.iter().map(|p| p.len() as f64).collect();
    let counts = allocate(n, &w);
    mods.into_iter()
        .zip(counts)
        .zip(pools)
        .map(|((m, c), p)| (m, c, p))
        .collect()
}

/// Largest imbalance (Yes − No) a yes-or-no family may reach overall, per modality and per
/// (modality, attribute): small against the counts, so the question text predicts next to
/// nothing, and enough slack for the strata to lend each other their surplus.
const YES_NO_TOLERANCE: [i64; 3] = [4, 3, 2];

/// Balance keys (Yes − No counters) of a yes-or-no question: its family overall, the family
/// within the modality, and the (family, attribute) within the modality.
type BalanceKey = (Option<Modality>, Family, String);

/// Yes − No counters, interned: a key's slot is given once, counters are plain integers.
#[derive(Default)]
struct Balance {
    slots: BTreeMap<BalanceKey, usize>,
    value: Vec<i64>,
}

impl Balance {
    fn slot(&mut self, k: BalanceKey) -> usize {
        let next = self.slots.len();
        let s = *self.slots.entry(k).or_insert(next);
        if s == self.value.len() {
            self.value.push(0);
        }
        s
    }
}

/// One stratum (split × level × modality) of yes-or-no questions, indexed so that a question
/// is placed in time logarithmic in the pool.
///
/// A question is a (family, target) "key": presence or absence of one of the modality's
/// attributes, or acceptability. For an image a key has one fixed answer. `live[answer][key]`
/// holds the pool positions of the images that can still be asked `key` (each (image, key)
/// is asked at most once), so the search skips exhausted images instead of rescanning them.
struct Stratum<'a> {
    pool: Vec<&'a ImageFacts>,
    attrs: Vec<&'a AttributeRecipe>,
    /// Per key: its family and target (`None` for acceptability).
    keys: Vec<(Family, Option<&'a AttributeRecipe>)>,
    /// Per key: its three balance slots.
    slots: Vec<[usize; 3]>,
    /// `live[want_yes as usize][key]`: positions of images that answer `key` that way and
    /// were not asked it yet.
    live: [Vec<BTreeSet<usize>>; 2],
}

impl<'a> Stratum<'a> {
    fn new(
        m: Modality,
        pool: Vec<&'a ImageFacts>,
        attrs: Vec<&'a AttributeRecipe>,
        balance: &mut Balance,
    ) -> Stratum<'a> {
        // key order: presence of each attribute, absence of each, acceptability
        let mut keys: Vec<(Family, Option<&AttributeRecipe>)> = Vec::new();
        for f in [Family::Presence, Family::Absence] {
            keys.extend(attrs.iter().map(|a| (f, Some(*a))));
        }
        keys.push((Family::Acceptable, None));
        let slots = keys
            .iter()
            .map(|(f, t)| {
                let attr = t.map_or(String::new(), |a| a.name.clone());
                [
                    balance.slot((None, *f, String::new())),
                    balance.slot((Some(m), *f, String::new())),
                    balance.slot((Some(m), *f, attr)),
                ]
            })
            .collect();
        let mut live = [
            vec![BTreeSet::new(); keys.len()],
            vec![BTreeSet::new(); keys.len()],
        ];
        let a = attrs.len();
        for (pos, img) in pool.iter().enumerate() {
            for (ai, at) in attrs.iter().enumerate() {
                let has = img.attribute.as_deref() == Some(at.name.as_str());
                // presence answers Yes iff the image has it; absence the other way
                live[has as usize][ai].insert(pos);
                live[!has as usize][a + ai].insert(pos);
            }
            let ok = img.grade != QualityGrade::Reject;
            live[ok as usize][2 * a].insert(pos);
        }
        Stratum {
            pool,
            attrs,
            keys,
            slots,
            live,
        }
    }

    /// The key of `img` at `pos` that gives `want_yes`, for each of its attributes in order,
    /// then acceptability (the candidate order of the placement rule).
    fn candidates(&self, pos: usize, want_yes: bool) -> impl Iterator<Item = usize> + '_ {
        let a = self.attrs.len();
        let img = self.pool[pos];
        let live = &self.live[want_yes as usize];
        (0..a)
            .map(move |ai| {
                let has = img.attribute.as_deref() == Some(self.attrs[ai].name.as_str());
                if has == want_yes {
                    ai
                } else {
                    a + ai
                }
            })
            .chain(std::iter::once(2 * a))
            .filter(move |&k| live[k].contains(&pos))
    }
}

fn yes_no(mk: &mut Maker<'_>, split: &str, n: usize, imgs: &[&ImageFacts]) -> usize {
    let bench = mk.bench;
    let mut rng = Seed::derive(bench.seed, &format!("questions/yes-or-no/{split}")).rng();
    // strata: level (by the recipe's severity proportions), then modality (by image count);
    // each stratum asks for exactly half Yes
    let levels: Vec<Severity> = Severity::ALL
        .into_iter()
        .filter(|s| imgs.iter().any(|r| r.severity == *s))
        .collect();
    let w: Vec<f64> = levels.iter().map(|s| bench.severity[s]).collect();
    let per_level = allocate(n, &w);
    // balance of Yes − No per family, (modality, family) and (modality, family, attribute)
    let mut balance = Balance::default();
    let mut strata: Vec<(Modality, Stratum)> = Vec::new();
    let mut tasks: Vec<(usize, bool)> = Vec::new();
    for (lvl, ln) in levels.iter().zip(per_level) {
        let at_level: Vec<&ImageFacts> = imgs
            .iter()
            .copied()
            .filter(|r| r.severity == *lvl)
            .collect();
        for (m, count, mut pool) in by_modality(&at_level, ln) {
            let attrs = attrs_of(bench, m);
            if attrs.is_empty() || pool.is_empty() {
                continue;
            }
            pool.shuffle(&mut rng);
            let mut answers: Vec<bool> = (0..count).map(|i| i < count / 2).collect();
            if count % 2 == 1 && rng.random_bool(0.5) {
                answers[count - 1] = true;
            }
            tasks.extend(answers.into_iter().map(|a| (strata.len(), a)));
            strata.push((m, Stratum::new(m, pool, attrs, &mut balance)));
        }
    }
    // strata interleaved, so that the Yes of one stratum and the No of another balance a
    // family as they come
    tasks.shuffle(&mut rng);
    let mut cursor = vec![0usize; strata.len()];
    let mut made = 0;
    // a task that cannot be placed yet (its family has no surplus of the other answer) waits
    // for a later pass: other tasks may create the surplus
    let mut queue = tasks;
    loop {
        let before = queue.len();
        let mut waiting = Vec::new();
        for (si, want_yes) in queue {
            if place_yes_no(
                mk,
                &mut strata[si].1,
                &mut cursor[si],
                want_yes,
                &mut balance,
                &mut rng,
            ) {
                made += 1;
            } else {
                waiting.push((si, want_yes));
            }
        }
        if waiting.is_empty() || waiting.len() == before {
            // last resort: the same answer in another stratum of the split (keeps the split's
            // Yes/No balance; the level mix moves slightly)
            for (k, (si, want_yes)) in waiting.into_iter().enumerate() {
                for off in 1..strata.len() {
                    let sj = (si + off + k) % strata.len();
                    if place_yes_no(
                        mk,
                        &mut strata[sj].1,
                        &mut cursor[sj],
                        want_yes,
                        &mut balance,
                        &mut rng,
                    ) {
                        made += 1;
                        break;
                    }
                }
            }
            break;
        }
        queue = waiting;
    }
    made
}

/// Ask one yes-or-no question with answer `want_yes` of an image of the stratum, within the
/// balance tolerance: the first image from `cursor` on (cyclically) that can still take a key
/// within tolerance, and of its keys the one furthest from balance the other way. Returns
/// false when no image of the stratum can take it now.
fn place_yes_no(
    mk: &mut Maker<'_>,
    st: &mut Stratum<'_>,
    cursor: &mut usize,
    want_yes: bool,
    balance: &mut Balance,
    rng: &mut SampleRng,
) -> bool {
    let n = st.pool.len();
    if n == 0 {
        return false;
    }
    let sign = if want_yes { 1 } else { -1 };
    let within = |k: usize| {
        st.slots[k]
            .iter()
            .zip(YES_NO_TOLERANCE)
            .all(|(&s, t)| sign * balance.value[s] < t)
    };
    // the nearest image (cyclically from the cursor) with a live key within tolerance
    let c = *cursor % n;
    let live = &st.live[want_yes as usize];
    let Some(pos) = (0..st.keys.len())
        .filter(|&k| within(k))
        .filter_map(|k| {
            let set = &live[k];
            set.range(c..)
                .next()
                .map(|&p| p - c)
                .or_else(|| set.iter().next().map(|&p| p + n - c))
        })
        .min()
        .map(|d| (c + d) % n)
    else {
        return false;
    };
    let cands: Vec<usize> = st
        .candidates(pos, want_yes)
        .filter(|&k| within(k))
        .collect();
    // the candidate furthest from balance the other way: by family, then by family within
    // the modality, then by (family, attribute); ties at random
    let score = |k: usize| st.slots[k].map(|s| sign * balance.value[s]);
    let best = cands.iter().map(|&k| score(k)).min().expect("candidates");
    let ties: Vec<usize> = cands.into_iter().filter(|&k| score(k) == best).collect();
    let chosen = ties[rng.random_range(0..ties.len())];
    for s in st.slots[chosen] {
        balance.value[s] += sign;
    }
    st.live[want_yes as usize][chosen].remove(&pos);
    let (family, target) = st.keys[chosen];
    let options = YES_NO_OPTIONS.iter().map(|s| s.to_string()).collect();
    mk.push(
        st.pool[pos],
        "yes-or-no",
        family,
        target,
        options,
        if want_yes { 0 } else { 1 },
        rng,
    );
    *cursor = (pos + 1) % n;
    true
}

/// The option sets of "what" questions of one modality, drawn so that the options say
/// nothing about which of them is correct.
///
/// Classes are the modality's attributes and "none" ([`NO_ARTIFACT`]); an option set is `k`
/// classes (4, or fewer when confusable attributes leave no larger set for some class) no two
/// of which are confusable. A question about an image of class `c` draws a set containing `c`
/// with probability ∝ `w(T)`. The weights are scaled (iterative proportional fitting) until
/// every class lies in the same weighted share of sets, `k / classes`. Since the answers are
/// dealt evenly over the classes, every class then appears as an option, at every letter, as
/// often when it is the answer as when it is not: neither the option texts nor their order
/// predict the answer (audit `blind/what/option-order`), and "No obvious artifact" is just one
/// class among the others, offered as often as any attribute. (Always offering it, as the
/// first version did, made its letter a shortcut: with nine attributes it is the answer one
/// time in ten, so "not the letter of No obvious artifact" beat chance, and attributes with
/// many confusable partners were rarely offered unless they were the answer.)
struct OptionDesign {
    sets: Vec<Vec<usize>>,
    weight: Vec<f64>,
}

impl OptionDesign {
    /// The design for `n` attributes, `confusable(i, j)` saying whether attributes `i` and `j`
    /// may not be offered together; class `n` is "none".
    fn new(n: usize, confusable: impl Fn(usize, usize) -> bool) -> OptionDesign {
        let classes = n + 1;
        let clash = |i: usize, j: usize| i < n && j < n && confusable(i, j);
        for k in (2..=classes.min(4)).rev() {
            let mut sets = Vec::new();
            let mut cur = Vec::with_capacity(k);
            combinations(classes, k, 0, &mut cur, &mut |s: &[usize]| {
                if s.iter()
                    .enumerate()
                    .all(|(x, &i)| s[x + 1..].iter().all(|&j| !clash(i, j)))
                {
                    sets.push(s.to_vec());
                }
            });
            let covered = (0..classes).all(|c| sets.iter().any(|s| s.contains(&c)));
            if covered {
                let weight = equal_marginals(&sets, classes);
                return OptionDesign { sets, weight };
            }
        }
        OptionDesign {
            sets: Vec::new(),
            weight: Vec::new(),
        }
    }

    /// A set containing class `c`, drawn by weight.
    fn draw(&self, c: usize, rng: &mut SampleRng) -> Option<&[usize]> {
        let with: Vec<usize> = (0..self.sets.len())
            .filter(|&i| self.sets[i].contains(&c))
            .collect();
        let total: f64 = with.iter().map(|&i| self.weight[i]).sum();
        if with.is_empty() || total <= 0.0 {
            return None;
        }
        let mut r = rng.random::<f64>() * total;
        for &i in &with {
            r -= self.weight[i];
            if r < 0.0 {
                return Some(&self.sets[i]);
            }
        }
        with.last().map(|&i| self.sets[i].as_slice())
    }
}

/// Every `k`-subset of `0..n` in lexicographic order.
fn combinations(
    n: usize,
    k: usize,
    from: usize,
    cur: &mut Vec<usize>,
    f: &mut impl FnMut(&[usize]),
) {
    if cur.len() == k {
        f(cur);
        return;
    }
    for i in from..n {
        if n - i < k - cur.len() {
            break;
        }
        cur.push(i);
        combinations(n, k, i + 1, cur, f);
        cur.pop();
    }
}

/// Weights of `sets` (all of one size k) under which every class's weighted share of sets
/// is k / classes, by iterative proportional fitting from equal weights (each set scaled by
/// the geometric mean of its classes' deficits). Where no exact solution exists (a class in
/// too few sets) this converges towards the nearest.
fn equal_marginals(sets: &[Vec<usize>], classes: usize) -> Vec<f64> {
    let mut w = vec![1.0; sets.len()];
    let Some(k) = sets.first().map(|s| s.len() as f64) else {
        return w;
    };
    for _ in 0..500 {
        let total: f64 = w.iter().sum();
        let target = total * k / classes as f64;
        let mut marg = vec![0.0; classes];
        for (s, &x) in sets.iter().zip(&w) {
            for &c in s {
                marg[c] += x;
            }
        }
        let worst = marg
            .iter()
            .map(|&m| (m / target - 1.0).abs())
            .fold(0.0, f64::max);
        if worst < 1e-9 {
            break;
        }
        for (s, x) in sets.iter().zip(w.iter_mut()) {
            let log: f64 = s.iter().map(|&c| (target / marg[c]).ln()).sum();
            *x *= (log / k).exp();
        }
    }
    w
}

fn what(mk: &mut Maker<'_>, split: &str, n: usize, imgs: &[&ImageFacts]) -> usize {
    let bench = mk.bench;
    let mut rng = Seed::derive(bench.seed, &format!("questions/what/{split}")).rng();
    let mut letters = LetterBalance::default();
    let mut made = 0;
    for (m, count, pool) in by_modality(imgs, n) {
        let attrs = attrs_of(bench, m);
        if attrs.len() < 2 {
            continue;
        }
        let design = OptionDesign::new(attrs.len(), |i, j| confusable(attrs[i], attrs[j]));
        // classes: each attribute, and "none"
        let mut classes: BTreeMap<Option<String>, Vec<&ImageFacts>> = BTreeMap::new();
        for r in pool {
            classes.entry(r.attribute.clone()).or_default().push(r);
        }
        for list in classes.values_mut() {
            list.shuffle(&mut rng);
        }
        let mut order: Vec<Option<String>> = classes.keys().cloned().collect();
        let mut taken = 0;
        let mut round = 0;
        'rounds: while taken < count {
            order.shuffle(&mut rng);
            // "none" takes its turn last: a round cut short by `count` then leaves it out, so
            // "No obvious artifact" is never the most frequent answer (audit `what-none-share`)
            order.sort_by_key(|c| c.is_none());
            let live: Vec<&Option<String>> =
                order.iter().filter(|c| classes[*c].len() > round).collect();
            // "none" may only take a turn alongside at least one attribute class
            if !live.iter().any(|c| c.is_some()) {
                break;
            }
            for c in live {
                if taken == count {
                    break 'rounds;
                }
                let img = classes[c][round];
                // the image's class: its attribute, or "none" (index a)
                let own = c
                    .as_ref()
                    .and_then(|name| attrs.iter().position(|a| &a.name == name))
                    .unwrap_or(attrs.len());
                let Some(set) = design.draw(own, &mut rng) else {
                    continue;
                };
                let label = |k: usize| {
                    attrs
                        .get(k)
                        .map_or(NO_ARTIFACT.to_string(), |a| a.label.clone())
                };
                let mut opts: Vec<String> = set
                    .iter()
                    .filter(|&&k| k != own)
                    .map(|&k| label(k))
                    .collect();
                opts.shuffle(&mut rng);
                let pos = letters.pick(opts.len() + 1, &mut rng);
                opts.insert(pos, label(own));
                mk.push(img, "what", Family::What, None, opts, pos, &mut rng);
                taken += 1;
                made += 1;
            }
            round += 1;
        }
    }
    made
}

fn how(mk: &mut Maker<'_>, split: &str, n: usize, imgs: &[&ImageFacts]) -> usize {
    let bench = mk.bench;
    let mut rng = Seed::derive(bench.seed, &format!("questions/how/{split}")).rng();
    let mut made = 0;
    for (m, count, mut pool) in by_modality(imgs, n) {
        let attrs = attrs_of(bench, m);
        pool.shuffle(&mut rng);
        let mut used: BTreeSet<&str> = BTreeSet::new();
        // cells: (family, answer index)
        let mut cells: Vec<(Family, usize)> = (0..3)
            .map(|i| (Family::Grade, i))
            .chain((0..3).map(|i| (Family::Level, i)))
            .collect();
        let mut cursor: BTreeMap<(Family, usize), usize> = BTreeMap::new();
        let mut dead: BTreeSet<(Family, usize)> = BTreeSet::new();
        // "not present" targets: balance the attribute named
        let mut absent_count: BTreeMap<String, usize> = BTreeMap::new();
        let mut taken = 0;
        while taken < count && dead.len() < cells.len() {
            cells.shuffle(&mut rng);
            for &cell in &cells {
                if taken == count {
                    break;
                }
                if dead.contains(&cell) {
                    continue;
                }
                let fits = |r: &ImageFacts| -> bool {
                    match cell {
                        (Family::Grade, i) => grade_option(r.grade) == GRADE_OPTIONS[i],
                        (_, 0) => !attrs.is_empty(),
                        (_, i) => severity_option(r.severity) == LEVEL_OPTIONS[i],
                    }
                };
                let start = cursor.get(&cell).copied().unwrap_or(0);
                let found = (start..pool.len())
                    .find(|&j| !used.contains(pool[j].id.as_str()) && fits(pool[j]));
                let Some(j) = found else {
                    dead.insert(cell);
                    continue;
                };
                cursor.insert(cell, j + 1);
                let img = pool[j];
                used.insert(img.id.as_str());
                match cell {
                    (Family::Grade, i) => {
                        let opts = GRADE_OPTIONS.iter().map(|s| s.to_string()).collect();
                        mk.push(img, "how", Family::Grade, None, opts, i, &mut rng);
                    }
                    (_, i) => {
                        let target = if i == 0 {
                            // an attribute the image does not have, the least asked first
                            let cands: Vec<&AttributeRecipe> = attrs
                                .iter()
                                .copied()
                                .filter(|a| img.attribute.as_deref() != Some(a.name.as_str()))
                                .collect();
                            if cands.is_empty() {
                                // the modality has no other attribute to ask about
                                continue;
                            }
                            let least = cands
                                .iter()
                                .map(|a| absent_count.get(&a.name).copied().unwrap_or(0))
                                .min()
                                .unwrap_or(0);
                            let ties: Vec<&AttributeRecipe> = cands
                                .into_iter()
                                .filter(|a| {
                                    absent_count.get(&a.name).copied().unwrap_or(0) == least
                                })
                                .collect();
                            let t = ties[rng.random_range(0..ties.len())];
                            *absent_count.entry(t.name.clone()).or_default() += 1;
                            t
                        } else {
                            let own = img.attribute.as_deref().unwrap_or_default();
                            match attrs.iter().find(|a| a.name == own) {
                                Some(a) => a,
                                None => continue,
                            }
                        };
                        let opts = LEVEL_OPTIONS.iter().map(|s| s.to_string()).collect();
                        mk.push(img, "how", Family::Level, Some(target), opts, i, &mut rng);
                    }
                }
                taken += 1;
                made += 1;
            }
        }
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_exact_and_fair() {
        assert_eq!(allocate(10, &[0.2, 0.4, 0.4]), vec![2, 4, 4]);
        assert_eq!(allocate(7, &[1.0, 1.0]), vec![4, 3]);
        assert_eq!(allocate(5, &[0.0, 3.0]), vec![0, 5]);
        assert_eq!(allocate(3, &[0.0, 0.0]), vec![0, 0]);
        assert_eq!(allocate(100, &[0.2, 0.4, 0.4]).iter().sum::<usize>(), 100);
    }

    /// A confusability relation from pairs of attribute indices.
    fn relation(pairs: &[(usize, usize)]) -> impl Fn(usize, usize) -> bool + '_ {
        move |i, j| {
            pairs
                .iter()
                .any(|&(a, b)| (a, b) == (i, j) || (b, a) == (i, j))
        }
    }

    #[test]
    fn what_option_sets_offer_every_class_equally() {
        // nine attributes with the confusable pairs of the bundled MRI recipes' kind: some
        // attributes exclude two others, some none
        let pairs = [(0, 1), (0, 2), (3, 4), (6, 7)];
        let conf = relation(&pairs);
        let d = OptionDesign::new(9, &conf);
        assert!(d.sets.iter().all(|s| s.len() == 4));
        // no set holds a confusable pair
        for s in &d.sets {
            for &i in s {
                for &j in s {
                    if i != j && i < 9 && j < 9 {
                        assert!(!conf(i, j), "{s:?}");
                    }
                }
            }
        }
        // equal weighted marginals: every class in 4/10 of the weight
        let total: f64 = d.weight.iter().sum();
        for c in 0..10 {
            let m: f64 = d
                .sets
                .iter()
                .zip(&d.weight)
                .filter(|(s, _)| s.contains(&c))
                .map(|(_, w)| w)
                .sum();
            assert!((m / total - 0.4).abs() < 1e-6, "class {c}: {}", m / total);
        }
        // drawn with each class as the answer equally often, a class is offered as a
        // distractor exactly as often as it is the answer (within sampling noise)
        let mut rng = Seed::derive(3, "design").rng();
        let rounds = 20_000;
        let mut offered = [0f64; 10];
        for _ in 0..rounds {
            for c in 0..10 {
                let s = d.draw(c, &mut rng).expect("a set");
                assert!(s.contains(&c));
                for &o in s.iter().filter(|&&o| o != c) {
                    offered[o] += 1.0;
                }
            }
        }
        for (c, o) in offered.iter().enumerate() {
            // each class is the answer `rounds` times; as a distractor it fills 3 of the 4
            // places, so it is offered 3 times as often
            let ratio = o / (3.0 * rounds as f64);
            assert!((ratio - 1.0).abs() < 0.03, "class {c}: ratio {ratio:.3}");
        }
    }

    #[test]
    fn what_option_sets_shrink_when_confusables_leave_no_set_of_four() {
        // three attributes all confusable with each other: only {attribute, none} pairs
        let pairs = [(0, 1), (0, 2), (1, 2)];
        let d = OptionDesign::new(3, relation(&pairs));
        assert!(!d.sets.is_empty());
        assert!(d.sets.iter().all(|s| s.len() == 2 && s.contains(&3)));
    }

    #[test]
    fn letters_balance() {
        let mut b = LetterBalance::default();
        let mut rng = Seed::derive(0, "t").rng();
        let mut counts = [0usize; 4];
        for _ in 0..400 {
            counts[b.pick(4, &mut rng)] += 1;
        }
        assert_eq!(counts, [100; 4]);
    }
}
