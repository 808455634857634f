//! Clustering: connected components of the links (union–find).

/// Union–find with path halving and union by size.
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = p;
            x = p;
        }
        x
    }

    pub fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }
}

/// Cluster ids for `n` records linked by `edges`: every record gets one
/// (singletons too); clusters are numbered 0, 1, … in the order of their
/// first record, so the result does not depend on the order of the edges.
pub fn components(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Vec<u32> {
    let mut uf = UnionFind::new(n);
    for (a, b) in edges {
        uf.union(a, b);
    }
    let mut id_of_root = vec![u32::MAX; n];
    let mut next = 0u32;
    (0..n as u32)
        .map(|i| {
            let r = uf.find(i) as usize;
            if id_of_root[r] == u32::MAX {
                id_of_root[r] = next;
                next += 1;
            }
            id_of_root[r]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_cover_every_record_and_ignore_edge_order() {
        let c = components(6, [(4, 1), (1, 2), (5, 3)]);
        assert_eq!(c, vec![0, 1, 1, 2, 1, 2]);
        assert_eq!(components(6, [(5, 3), (2, 1), (1, 4)]), c);
        assert_eq!(components(3, []), vec![0, 1, 2]);
    }
}
