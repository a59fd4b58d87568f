package dev.bufsync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tables of Hinnant's paper and their theoretical minimum meal times. */
class DiningTableTest {
    private static final double E = 30e9;   // the paper's 30 s per diner, in ns

    /** Round tables: 2E for even N, E·N/((N-1)/2) for odd N (60 s and 90 s at N = 2, 3). */
    @Test
    void roundTableMinimaMatchThePaper() {
        assertThat(DiningTable.of("2").minimumNanos(E)).isEqualTo(60e9);
        assertThat(DiningTable.of("3").minimumNanos(E)).isEqualTo(90e9);
        assertThat(DiningTable.of("5").minimumNanos(E)).isEqualTo(75e9);
        for (int n = 2; n <= 32; n++) {
            double expected = n % 2 == 0 ? 2 * E : E * n / ((n - 1) / 2);
            assertThat(DiningTable.of(Integer.toString(n)).minimumNanos(E)).as("N=%d", n)
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(1.0));
        }
    }

    /** Solids: one diner at a time on the tetrahedron, four on the cube, eight on the dodecahedron. */
    @Test
    void solidMinima() {
        assertThat(DiningTable.of("tetrahedron").maxEatingAtOnce()).isEqualTo(1);
        assertThat(DiningTable.of("tetrahedron").minimumNanos(E)).isEqualTo(120e9);
        assertThat(DiningTable.of("cube").maxEatingAtOnce()).isEqualTo(4);
        assertThat(DiningTable.of("cube").minimumNanos(E)).isEqualTo(60e9);
        assertThat(DiningTable.of("dodecahedron").maxEatingAtOnce()).isEqualTo(8);
        assertThat(DiningTable.of("dodecahedron").minimumNanos(E)).isEqualTo(75e9);
    }

    /** The solids' fork lists are the solids: every fork (edge) joins exactly two diners (vertices). */
    @Test
    void solidsAreWellFormed() {
        int[][] shape = {{4, 6}, {8, 12}, {20, 30}};
        for (int s = 0; s < 3; s++) {
            DiningTable t = DiningTable.of(DiningTable.SOLIDS.get(s));
            assertThat(t.diners()).isEqualTo(shape[s][0]);
            assertThat(t.forkCount()).isEqualTo(shape[s][1]);
            Map<Integer, Integer> uses = new HashMap<>();
            for (int d = 0; d < t.diners(); d++) {
                assertThat(t.forksOf(d)).hasSize(3).doesNotHaveDuplicates();
                for (int f : t.forksOf(d)) {
                    uses.merge(f, 1, Integer::sum);
                }
            }
            assertThat(uses.values()).allMatch(u -> u == 2);
        }
    }

    /** Unknown names and too-small tables are refused with the reason. */
    @Test
    void badTablesAreRefused() {
        assertThatThrownBy(() -> DiningTable.of("1")).hasMessageContaining("2 to 64");
        assertThatThrownBy(() -> DiningTable.of("icosahedron")).hasMessageContaining("unknown table");
    }
}
