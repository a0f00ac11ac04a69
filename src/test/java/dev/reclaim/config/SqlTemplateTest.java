package dev.reclaim.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SqlTemplateTest {

    @Test
    void shouldReplaceNamedParametersInOrder() {
        SqlTemplate t = SqlTemplate.parse("SELECT * FROM t WHERE id = :id AND at < :cutoff OR id = :id");

        assertThat(t.jdbcSql()).isEqualTo("SELECT * FROM t WHERE id = ? AND at < ? OR id = ?");
        assertThat(t.parameters()).containsExactly("id", "cutoff", "id");
        assertThat(t.parameterNames()).containsExactly("cutoff", "id");
    }

    @Test
    void shouldLeaveCastsLiteralsCommentsAndDollarQuotesAlone() {
        SqlTemplate t = SqlTemplate.parse("""
                SELECT id::text, ':notparam', "col:x", $$ :nope $$, $tag$ :nope $tag$ -- :comment
                FROM t /* :block */ WHERE a = 'it''s :x' AND b = :real""");

        assertThat(t.parameters()).containsExactly("real");
        assertThat(t.jdbcSql()).contains("id::text", "':notparam'", "$$ :nope $$", "-- :comment", "/* :block */")
                .endsWith("b = ?");
    }

    @Test
    void shouldNotTreatPositionalDollarParametersAsQuotes() {
        SqlTemplate t = SqlTemplate.parse("SELECT $1, :id");

        assertThat(t.parameters()).containsExactly("id");
    }
}
