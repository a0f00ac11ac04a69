package dev.reclaim.config;

import org.junit.jupiter.api.Test;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Item 5: globs over keys, matched on the string itself, with the semantics docs/CONFIGURATION.md documents. */
class KeyGlobTest {

    private static boolean matches(String glob, String key) {
        return KeyGlob.compile(glob).matches(key);
    }

    @Test
    void shouldMatchOneStarWithinASingleFolderOnly() {
        assertThat(matches("users/*/temp/**", "users/u1/temp/a.jpg")).isTrue();
        assertThat(matches("users/*/temp/**", "users/u1/x/temp/a.jpg")).isFalse();
        assertThat(matches("uploads/tmp/*", "uploads/tmp/a.pdf")).isTrue();
        assertThat(matches("uploads/tmp/*", "uploads/tmp/u1/a.pdf")).isFalse();
        assertThat(matches("uploads/tmp/*.pdf", "uploads/tmp/.pdf")).isTrue();
    }

    @Test
    void shouldMatchTwoStarsAcrossFolders() {
        assertThat(matches("uploads/tmp/**", "uploads/tmp/a/b/c/d.pdf")).isTrue();
        assertThat(matches("uploads/tmp/**", "uploads/tmpx/a.pdf")).isFalse();
        assertThat(matches("uploads/**/final.pdf", "uploads/a/b/final.pdf")).isTrue();
        assertThat(matches("uploads/**/final.pdf", "uploads/final.pdf")).isFalse();
    }

    @Test
    void shouldMatchAQuestionMarkAsOneCharacterOtherThanTheSeparator() {
        assertThat(matches("uploads/tmp/part-?.pdf", "uploads/tmp/part-1.pdf")).isTrue();
        assertThat(matches("uploads/tmp/part-?.pdf", "uploads/tmp/part-12.pdf")).isFalse();
        assertThat(matches("uploads/tmp/a?b", "uploads/tmp/a/b")).isFalse();
        assertThat(matches("uploads/tmp/?", "uploads/tmp/日")).isTrue();
    }

    @Test
    void shouldMatchCharacterClasses_rangesAndNegation() {
        assertThat(matches("uploads/tmp/[abc].pdf", "uploads/tmp/b.pdf")).isTrue();
        assertThat(matches("uploads/tmp/[abc].pdf", "uploads/tmp/d.pdf")).isFalse();
        assertThat(matches("uploads/tmp/[a-c0-9]x", "uploads/tmp/7x")).isTrue();
        assertThat(matches("uploads/tmp/[!a-c]x", "uploads/tmp/dx")).isTrue();
        assertThat(matches("uploads/tmp/[!a-c]x", "uploads/tmp/ax")).isFalse();
        assertThat(matches("uploads/tmp/[!a-c]x", "uploads/tmp//x")).isFalse();
        assertThat(matches("uploads/tmp/[a-]x", "uploads/tmp/-x")).isTrue();
        assertThat(matches("uploads/tmp/[-a]x", "uploads/tmp/-x")).isTrue();
        assertThat(matches("uploads/tmp/[^]x", "uploads/tmp/^x")).isTrue();
        assertThat(matches("uploads/tmp/[*?]x", "uploads/tmp/*x")).isTrue();
        assertThat(matches("uploads/tmp/[*?]x", "uploads/tmp/ax")).isFalse();
    }

    @Test
    void shouldMatchAlternatives() {
        KeyGlob glob = KeyGlob.compile("uploads/tmp/*.{pdf,png,}");
        assertThat(glob.matches("uploads/tmp/a.pdf")).isTrue();
        assertThat(glob.matches("uploads/tmp/a.png")).isTrue();
        assertThat(glob.matches("uploads/tmp/a.")).isTrue();
        assertThat(glob.matches("uploads/tmp/a.jpg")).isFalse();
        assertThat(matches("uploads/{tmp,temp}/**", "uploads/temp/x")).isTrue();
        assertThat(matches("uploads/{tmp/*,x}", "uploads/tmp/a")).isTrue();
    }

    @Test
    void shouldTreatRegexCharactersAndEscapesLiterally() {
        assertThat(matches("uploads/tmp/a.b+(c)$|^x", "uploads/tmp/a.b+(c)$|^x")).isTrue();
        assertThat(matches("uploads/tmp/a.b", "uploads/tmp/aXb")).isFalse();
        assertThat(matches("uploads/tmp/\\*", "uploads/tmp/*")).isTrue();
        assertThat(matches("uploads/tmp/\\*", "uploads/tmp/a")).isFalse();
        assertThat(matches("uploads/tmp/a,b}c", "uploads/tmp/a,b}c")).isTrue();
        assertThat(matches("uploads/tmp/\\Q*\\E", "uploads/tmp/QxE")).isTrue(); // no regex quoting leaks through
        assertThat(matches("uploads/tmp/\\Q*\\E", "uploads/tmp/*")).isFalse();
    }

    @Test
    void shouldMatchKeysWithNonAsciiAndControlCharacters_whateverTheLocale() {
        assertThat(matches("users/*/temp/**", "users/u1/temp/日本.jpg")).isTrue();
        assertThat(matches("uploads/tmp/**", "uploads/tmp/u1/\u0001bad\nname.pdf")).isTrue();
        assertThat(matches("uploads/tmp/*", "uploads/tmp/line\nbreak")).isTrue();
        assertThat(matches("uploads/tmp/**", "uploads/tmp/😀/x")).isTrue();
        assertThat(matches("uploads/tmp/?", "uploads/tmp/😀")).isTrue(); // one code point, as Java's glob had it
        assertThat(matches("uploads/tmp/**", "uploads/tmp/\uD800")).isTrue(); // a lone surrogate still does not throw
        assertThat(matches("uploads/tmp/**", null)).isFalse();
    }

    @Test
    void shouldMatchEmptyFolderMarkersAndDoubleSlashesOnTheString() {
        // Path-based matching normalised "a//b" and dropped a trailing '/'; keys are strings, compared as they are.
        assertThat(matches("uploads/tmp/**", "uploads/tmp//x")).isTrue();
        assertThat(matches("uploads/tmp/*/x", "uploads/tmp//x")).isTrue();
        assertThat(matches("uploads/tmp/**", "uploads/tmp")).isFalse();
    }

    @Test
    void shouldAgreeWithJavasGlobOnAsciiKeys() {
        List<String> globs = List.of("users/*/temp/**", "uploads/tmp/**", "uploads/tmp/*.{pdf,png}", "a/[a-c]?/**",
                "a/[!x]*/b", "a/*/b/**/c.txt", "a/{b,c}/d");
        List<String> keys = List.of("users/u1/temp/a.jpg", "users/u1/temp/x/y", "users/temp/a", "uploads/tmp/a.pdf",
                "uploads/tmp/a/b.png", "uploads/tmp/a.png", "a/bz/q", "a/b/q", "a/y/b", "a/x/b", "a/q/b/r/s/c.txt",
                "a/q/b/c.txt", "a/b/d", "a/c/d", "a/e/d");
        for (String glob : globs) {
            PathMatcher java = FileSystems.getDefault().getPathMatcher("glob:" + glob);
            for (String key : keys) {
                assertThat(matches(glob, key)).as(glob + " ~ " + key).isEqualTo(java.matches(Path.of(key)));
            }
        }
    }

    @Test
    void shouldGiveTheLiteralStart_beforeTheFirstWildcard_withEscapesResolved() {
        assertThat(KeyGlob.compile("users/*/temp/**").literalStart()).isEqualTo("users/");
        assertThat(KeyGlob.compile("uploads/tmp/**").literalStart()).isEqualTo("uploads/tmp/");
        assertThat(KeyGlob.compile("uploads/tmp/a.pdf").literalStart()).isEqualTo("uploads/tmp/a.pdf");
        assertThat(KeyGlob.compile("uploads/t?p/**").literalStart()).isEqualTo("uploads/t");
        assertThat(KeyGlob.compile("uploads/[t]mp/**").literalStart()).isEqualTo("uploads/");
        assertThat(KeyGlob.compile("uploads/{tmp,temp}/**").literalStart()).isEqualTo("uploads/");
        assertThat(KeyGlob.compile("up\\*loads/**").literalStart()).isEqualTo("up*loads/");
        assertThat(KeyGlob.compile("a,b}/**").literalStart()).isEqualTo("a,b}/");
        assertThat(KeyGlob.compile("**").literalStart()).isEmpty();
        assertThat(KeyGlob.compile("*/**").literalStart()).isEmpty();
    }

    @Test
    void shouldRefuseMalformedGlobs_sayingWhatIsWrong() {
        assertThatThrownBy(() -> KeyGlob.compile("a/[abc")).hasMessageContaining("never closed by ]");
        assertThatThrownBy(() -> KeyGlob.compile("a/{b,c")).hasMessageContaining("never closed by }");
        assertThatThrownBy(() -> KeyGlob.compile("a/{b,{c,d}}")).hasMessageContaining("cannot be nested");
        assertThatThrownBy(() -> KeyGlob.compile("a/b\\")).hasMessageContaining("nothing follows the escape");
        assertThatThrownBy(() -> KeyGlob.compile("a/[a/b]")).hasMessageContaining("folder separator");
        assertThatThrownBy(() -> KeyGlob.compile("a/[z-a]")).hasMessageContaining("reversed");
    }
}
