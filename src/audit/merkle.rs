//! RFC 9162 section 2.1 Merkle trees: the tree hash, inclusion and
//! consistency proofs, and their verification.
//!
//! Proof construction is generic over a [`NodeSource`] that yields the hash of
//! any complete subtree `(level, index)` (leaves `index·2^level ..
//! (index+1)·2^level`). The database keeps those hashes, so a proof for any
//! tree size needs O(log n) reads; [`MemoryTree`] keeps them in memory for
//! offline verification and tests. Hashes of incomplete ranges are combined
//! from complete subtrees exactly as RFC 9162 splits a tree: at the largest
//! power of two smaller than its size.

pub type Hash = [u8; 32];

/// SHA-256 of the empty string: the hash of the empty tree.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// SHA-256 of `prefix || parts` (ring's assembly SHA-256: on CPUs without
/// SHA extensions it is well over 1.5 times faster than a portable one, and
/// verification is mostly hashing).
fn sha256(prefix: u8, parts: &[&[u8]]) -> Hash {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(&[prefix]);
    for part in parts {
        h.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

/// Interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(1, &[left, right])
}

/// Leaf: SHA-256(0x00 || leaf bytes).
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    sha256(0, &[leaf])
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Why a proof cannot be built or does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError<E> {
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {from} is larger than tree size {to}")]
    FromAfterTo { from: u64, to: u64 },
    #[error("a proof needs a non-empty tree")]
    EmptyTree,
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("reading a subtree hash failed: {0}")]
    Source(E),
}

/// Where complete-subtree hashes come from.
pub trait NodeSource {
    type Error;
    /// The hash of the complete subtree at `level` and `index`.
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// MTH of leaves `start..end` (end > start), from complete subtrees.
fn range_hash<S: NodeSource>(
    src: &mut S,
    start: u64,
    end: u64,
) -> Result<Hash, ProofError<S::Error>> {
    let len = end - start;
    if len.is_power_of_two() && start.is_multiple_of(len) {
        return src
            .node(len.trailing_zeros(), start / len)
            .map_err(ProofError::Source);
    }
    let k = split(len);
    let left = range_hash(src, start, start + k)?;
    let right = range_hash(src, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// The tree hash of the first `size` leaves.
pub fn root<S: NodeSource>(src: &mut S, size: u64) -> Result<Hash, ProofError<S::Error>> {
    if size == 0 {
        Ok(EMPTY_ROOT)
    } else {
        range_hash(src, 0, size)
    }
}

/// RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: NodeSource>(
    src: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut path = Vec::new();
    path_into(src, index, 0, size, &mut path)?;
    Ok(path)
}

/// PATH(m, D[start:end]), written leaf-side first.
fn path_into<S: NodeSource>(
    src: &mut S,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError<S::Error>> {
    let n = end - start;
    if n == 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path_into(src, m, start, start + k, out)?;
        out.push(range_hash(src, start + k, end)?);
    } else {
        path_into(src, m - k, start + k, end, out)?;
        out.push(range_hash(src, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 2.1.4.1: the proof that the tree of `from` leaves is a prefix of
/// the tree of `to` leaves. Empty when `from` is 0 or equals `to`.
pub fn consistency_proof<S: NodeSource>(
    src: &mut S,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if from > to {
        return Err(ProofError::FromAfterTo { from, to });
    }
    let mut proof = Vec::new();
    if from == 0 || from == to {
        return Ok(proof);
    }
    subproof_into(src, from, 0, to, true, &mut proof)?;
    Ok(proof)
}

/// SUBPROOF(m, D[start:end], b).
fn subproof_into<S: NodeSource>(
    src: &mut S,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError<S::Error>> {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(range_hash(src, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof_into(src, m, start, start + k, whole, out)?;
        out.push(range_hash(src, start + k, end)?);
    } else {
        subproof_into(src, m - k, start + k, end, false, out)?;
        out.push(range_hash(src, start, start + k)?);
    }
    Ok(())
}

/// RFC 9162 2.1.3.2: checks that `leaf` is at `index` in the tree of `size`
/// leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError<()>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// RFC 9162 2.1.4.2: checks that the tree of `from` leaves with root
/// `from_root` is a prefix of the tree of `to` leaves with root `to_root`.
pub fn verify_consistency(
    from: u64,
    to: u64,
    from_root: &Hash,
    to_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError<()>> {
    if from > to {
        return Err(ProofError::FromAfterTo { from, to });
    }
    if from == to {
        return if proof.is_empty() && from_root == to_root {
            Ok(())
        } else if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if from == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if from.is_power_of_two() {
        path.insert(0, *from_root);
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut f_n, mut s_n) = (from - 1, to - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr == from_root && &sr == to_root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// A new complete subtree made by an append: `(level, index, hash)`.
pub type NewNode = (u32, u64, Hash);

/// Appends leaf number `size` to a tree whose `frontier` holds the hashes of
/// the complete subtrees making up `size` leaves, largest first (one per set
/// bit of `size`). Returns the new frontier and every complete subtree above
/// the leaves that this leaf completes.
pub fn frontier_push(frontier: &[Hash], size: u64, leaf: Hash) -> (Vec<Hash>, Vec<NewNode>) {
    let mut next = frontier.to_vec();
    let mut created = Vec::new();
    let (mut hash, mut level, mut index) = (leaf, 0u32, size);
    while index & 1 == 1 {
        let Some(left) = next.pop() else { break };
        hash = node_hash(&left, &hash);
        level += 1;
        index >>= 1;
        created.push((level, index, hash));
    }
    next.push(hash);
    (next, created)
}

/// The tree hash from a frontier: the subtrees folded from the right.
pub fn frontier_root(frontier: &[Hash]) -> Hash {
    let mut iter = frontier.iter().rev();
    let Some(last) = iter.next() else {
        return EMPTY_ROOT;
    };
    iter.fold(*last, |right, left| node_hash(left, &right))
}

/// Complete-subtree hashes held in memory: level 0 is the leaf hashes, each
/// higher level the hashes of complete pairs below it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
        }
    }

    /// Appends a leaf hash, completing every subtree it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let len = self.levels[level].len();
            if len % 2 == 1 {
                break;
            }
            hash = node_hash(&self.levels[level][len - 2], &self.levels[level][len - 1]);
            level += 1;
        }
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a run of leaves given with their complete subtrees, as
    /// `subtree_levels` computes them (on another thread, say). When the
    /// tree's size is not a multiple of the run's length rounded up to a
    /// power of two, the run's nodes would not line up, so its leaves are
    /// pushed one by one instead. The result is the same tree either way.
    pub fn append_levels(&mut self, levels: Vec<Vec<Hash>>) {
        let Some(count) = levels.first().map(Vec::len) else {
            return;
        };
        if count == 0 {
            return;
        }
        if !self
            .size()
            .is_multiple_of((count as u64).next_power_of_two())
        {
            for leaf in levels.into_iter().next().unwrap_or_default() {
                self.push(leaf);
            }
            return;
        }
        for (level, nodes) in levels.into_iter().enumerate() {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].extend(nodes);
        }
        // Subtrees that the run completes together with what came before.
        let mut level = 0;
        while level < self.levels.len() {
            let want = self.levels[level].len() / 2;
            if want > 0 && self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            while self.levels.get(level + 1).is_some_and(|up| up.len() < want) {
                let k = self.levels[level + 1].len();
                let hash = node_hash(&self.levels[level][2 * k], &self.levels[level][2 * k + 1]);
                self.levels[level + 1].push(hash);
            }
            level += 1;
        }
    }

    /// How many complete subtrees above the leaves the tree has: the rows a
    /// stored tree of the same size must hold.
    pub fn interior_count(&self) -> u64 {
        self.levels.iter().skip(1).map(|l| l.len() as u64).sum()
    }
}

/// Every complete subtree of a run of leaves: `levels[0]` the leaves,
/// `levels[l][j]` the hash of leaves `j*2^l .. (j+1)*2^l` of the run.
pub fn subtree_levels(leaves: Vec<Hash>) -> Vec<Vec<Hash>> {
    let mut levels = vec![leaves];
    while let Some(below) = levels.last().filter(|l| l.len() >= 2) {
        let up: Vec<Hash> = below
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
        levels.push(up);
    }
    levels
}

/// A subtree the memory tree does not hold.
#[derive(Debug, PartialEq, Eq)]
pub struct MissingNode {
    pub level: u32,
    pub index: u64,
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(level as usize)
            .and_then(|l| usize::try_from(index).ok().and_then(|i| l.get(i)))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162 straight from its definitions: the reference. MTH of each
    /// range is memoised so that checking every pair up to 300 stays quick.
    struct Reference {
        leaves: Vec<Hash>,
        memo: std::collections::HashMap<(usize, usize), Hash>,
    }

    impl Reference {
        fn new(leaves: Vec<Hash>) -> Self {
            Self {
                leaves,
                memo: std::collections::HashMap::new(),
            }
        }

        /// MTH(D[a:b]).
        fn mth(&mut self, a: usize, b: usize) -> Hash {
            if let Some(h) = self.memo.get(&(a, b)) {
                return *h;
            }
            let h = match b - a {
                0 => EMPTY_ROOT,
                1 => self.leaves[a],
                n => {
                    let k = split(n as u64) as usize;
                    let (l, r) = (self.mth(a, a + k), self.mth(a + k, b));
                    node_hash(&l, &r)
                }
            };
            self.memo.insert((a, b), h);
            h
        }

        /// PATH(m, D[a:b]).
        fn path(&mut self, m: usize, a: usize, b: usize) -> Vec<Hash> {
            let n = b - a;
            if n == 1 {
                return Vec::new();
            }
            let k = split(n as u64) as usize;
            let (mut p, sibling) = if m < k {
                (self.path(m, a, a + k), self.mth(a + k, b))
            } else {
                (self.path(m - k, a + k, b), self.mth(a, a + k))
            };
            p.push(sibling);
            p
        }

        /// SUBPROOF(m, D[a:b], whole).
        fn subproof(&mut self, m: usize, a: usize, b: usize, whole: bool) -> Vec<Hash> {
            let n = b - a;
            if m == n {
                return if whole {
                    Vec::new()
                } else {
                    vec![self.mth(a, b)]
                };
            }
            let k = split(n as u64) as usize;
            let (mut p, sibling) = if m <= k {
                (self.subproof(m, a, a + k, whole), self.mth(a + k, b))
            } else {
                (self.subproof(m - k, a + k, b, false), self.mth(a, a + k))
            };
            p.push(sibling);
            p
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    fn tree(leaves: &[Hash]) -> MemoryTree {
        let mut t = MemoryTree::new();
        for l in leaves {
            t.push(*l);
        }
        t
    }

    #[test]
    fn runs_appended_with_their_subtrees_give_the_same_tree_as_leaf_by_leaf() {
        let all = leaves(300);
        for prefix in [0usize, 1, 2, 3, 4, 7, 8, 16, 33, 64] {
            for run in [1usize, 2, 3, 4, 5, 8, 13, 16, 32, 64] {
                let mut t = tree(&all[..prefix]);
                let mut at = prefix;
                while at + run <= all.len() {
                    t.append_levels(subtree_levels(all[at..at + run].to_vec()));
                    at += run;
                }
                assert_eq!(t, tree(&all[..at]), "prefix {prefix}, runs of {run}");
            }
        }
        let mut t = MemoryTree::new();
        t.append_levels(Vec::new());
        t.append_levels(vec![Vec::new()]);
        assert_eq!(t, MemoryTree::new());
    }

    #[test]
    fn empty_tree_hash_is_sha256_of_nothing() {
        use sha2::{Digest, Sha256};
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
        assert_eq!(root(&mut MemoryTree::new(), 0), Ok(EMPTY_ROOT));
    }

    #[test]
    fn roots_and_inclusion_proofs_match_the_reference_for_every_size_up_to_300() {
        let all = leaves(300);
        let mut reference = Reference::new(all.clone());
        let mut t = MemoryTree::new();
        for n in 1..=300usize {
            t.push(all[n - 1]);
            let expected = reference.mth(0, n);
            assert_eq!(root(&mut t, n as u64), Ok(expected), "root of {n}");
            for (m, leaf) in all.iter().enumerate().take(n) {
                let proof = inclusion_proof(&mut t, m as u64, n as u64).unwrap_or_default();
                assert_eq!(proof, reference.path(m, 0, n), "inclusion {m} in {n}");
                assert_eq!(
                    verify_inclusion(leaf, m as u64, n as u64, &proof, &expected),
                    Ok(())
                );
            }
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_for_every_pair_up_to_300() {
        let all = leaves(300);
        let mut reference = Reference::new(all.clone());
        let mut t = tree(&all);
        let roots: Vec<Hash> = (0..=300).map(|n| reference.mth(0, n)).collect();
        for n in 1..=300usize {
            for m in 0..=n {
                let proof = consistency_proof(&mut t, m as u64, n as u64).unwrap_or_default();
                let expected = if m == 0 {
                    Vec::new()
                } else {
                    reference.subproof(m, 0, n, true)
                };
                assert_eq!(proof, expected, "consistency {m} -> {n}");
                assert_eq!(
                    verify_consistency(m as u64, n as u64, &roots[m], &roots[n], &proof),
                    Ok(()),
                    "{m} -> {n}"
                );
            }
        }
    }

    #[test]
    fn the_frontier_gives_every_root_and_every_complete_subtree() {
        let all = leaves(300);
        let mut reference = Reference::new(all.clone());
        let mut t = MemoryTree::new();
        let mut frontier = Vec::new();
        for (n, leaf) in all.iter().enumerate() {
            let (next, created) = frontier_push(&frontier, n as u64, *leaf);
            t.push(*leaf);
            for (level, index, hash) in created {
                assert_eq!(
                    t.node(level, index),
                    Ok(hash),
                    "subtree ({level}, {index}) after {n}"
                );
            }
            frontier = next;
            assert_eq!(frontier.len() as u32, (n as u64 + 1).count_ones());
            assert_eq!(
                frontier_root(&frontier),
                reference.mth(0, n + 1),
                "root of {}",
                n + 1
            );
        }
        assert_eq!(frontier_root(&[]), EMPTY_ROOT);
    }

    #[test]
    fn proofs_for_a_smaller_tree_come_from_a_bigger_one() {
        // The database only holds the current tree; proofs are for the size asked.
        let all = leaves(100);
        let mut reference = Reference::new(all.clone());
        let mut t = tree(&all);
        assert_eq!(root(&mut t, 37), Ok(reference.mth(0, 37)));
        assert_eq!(inclusion_proof(&mut t, 5, 37), Ok(reference.path(5, 0, 37)));
    }

    #[test]
    fn tampered_or_misused_proofs_fail_with_a_specific_error() {
        let all = leaves(21);
        let mut t = tree(&all);
        let r = root(&mut t, 21).unwrap_or(EMPTY_ROOT);
        let proof = inclusion_proof(&mut t, 7, 21).unwrap_or_default();
        let mut bad = proof.clone();
        bad[1][0] ^= 1;
        assert_eq!(
            verify_inclusion(&all[7], 7, 21, &bad, &r),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&all[8], 7, 21, &proof, &r),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(&all[7], 7, 21, &proof[..proof.len() - 1], &r),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            inclusion_proof(&mut t, 21, 21),
            Err(ProofError::IndexOutOfRange {
                index: 21,
                size: 21
            })
        );
        assert_eq!(
            consistency_proof(&mut t, 22, 21),
            Err(ProofError::FromAfterTo { from: 22, to: 21 })
        );
        // A size beyond the stored tree reads a subtree that is not there.
        assert!(matches!(
            root(&mut t, 22),
            Err(ProofError::Source(MissingNode { .. }))
        ));

        let r13 = root(&mut t, 13).unwrap_or(EMPTY_ROOT);
        let c = consistency_proof(&mut t, 13, 21).unwrap_or_default();
        assert_eq!(verify_consistency(13, 21, &r13, &r, &c), Ok(()));
        let other = root(
            &mut tree(&leaves(13).iter().rev().copied().collect::<Vec<_>>()),
            13,
        )
        .unwrap_or(EMPTY_ROOT);
        assert_eq!(
            verify_consistency(13, 21, &other, &r, &c),
            Err(ProofError::RootMismatch)
        );
        // A hash left out: the path no longer spans the tree.
        assert_eq!(
            verify_consistency(13, 21, &r13, &r, &c[1..]),
            Err(ProofError::WrongLength)
        );
        let mut flipped = c.clone();
        flipped[0][0] ^= 1;
        assert_eq!(
            verify_consistency(13, 21, &r13, &r, &flipped),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(13, 13, &r13, &r, &[]),
            Err(ProofError::RootMismatch)
        );
    }
}
