package dev.reclaim.sweep;

import dev.reclaim.report.SweepReport;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 8 item 4: the shipped bobblehead sweep lists {@code users/}, every saved photo of every user, to find the
 * temp ones; when it lists more than 10 times what is eligible (from 1,000 listed) the report, the summary and the
 * log say so and name the remedies.
 */
class ListingEfficiencyIT {
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private CloudinaryEmulator cloudinary;
    private ListAppender<ILoggingEvent> logs;

    @BeforeEach
    void setUp() {
        cloudinary = fx.cloudinary;
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(AssetSweep.class)).addAppender(logs);
    }

    @AfterEach
    void tearDown() {
        ((Logger) LoggerFactory.getLogger(AssetSweep.class)).detachAppender(logs);
    }

    private RunReport run() {
        try (var reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", false, List.of("bobblehead-temp-photos"), null));
        }
    }

    /** n old photos in users/u{0..9}/{folder}/, spread over 10 users. */
    private void seed(String folder, int n) {
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            assets.add(Asset.image("users/u" + (i % 10) + "/" + folder + "/" + UUID.randomUUID(), OLD, 1000));
        }
        cloudinary.seed(assets);
    }

    private List<String> listingWarningsLogged() {
        return logs.list.stream()
                .filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("listing inefficient"))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void shouldWarnInReportSummaryAndLogOnce_whenTheSweepLists23TimesWhatIsEligible() {
        seed("photos", 1100);
        seed("temp", 50);

        RunReport report = run();

        SweepReport s = report.sweeps().get(0);
        assertThat(s.scanned()).isEqualTo(1150);
        assertThat(s.eligible()).isEqualTo(50);
        assertThat(s.purged()).isEqualTo(50);
        assertThat(s.listingWarning())
                .contains("listed 1150 assets", "to find 50 eligible", "23.0 listed per eligible one")
                .contains("store bobblehead-photos", "prefix 'users/'")
                .contains("a narrower prefix", "top-level temp folder", "temp/users/{userId}/", "search expression");
        assertThat(Reports.summary(report)).contains("WARNING " + s.listingWarning());
        assertThat(listingWarningsLogged()).singleElement().asString()
                .contains("bobblehead-temp-photos", s.listingWarning());
    }

    @Test
    void shouldNotWarn_when60TempPhotosLieAmong300Saved() {
        seed("photos", 300);
        seed("temp", 60);

        RunReport report = run();

        SweepReport s = report.sweeps().get(0);
        assertThat(s.scanned()).isEqualTo(360);
        assertThat(s.eligible()).isEqualTo(60);
        assertThat(s.listingWarning()).isNull();
        assertThat(Reports.summary(report)).doesNotContain("WARNING").doesNotContain("listing inefficient");
        assertThat(listingWarningsLogged()).isEmpty();
    }

    @Test
    void shouldNotWarn_whenTheRatioIsHighButFewerThan1000AssetsWereListed() {
        seed("photos", 900);
        seed("temp", 5); // 181 listed per eligible one, but 905 listed: two list calls, a small folder

        SweepReport s = run().sweeps().get(0);

        assertThat(s.scanned()).isEqualTo(905);
        assertThat(s.listingWarning()).isNull();
        assertThat(listingWarningsLogged()).isEmpty();
    }

    @Test
    void shouldNotWarn_whenExactly10TimesWhatIsEligibleIsListed() {
        seed("photos", 1080);
        seed("temp", 120); // 1,200 listed, 120 eligible: 10 times, not more

        SweepReport s = run().sweeps().get(0);

        assertThat(s.scanned()).isEqualTo(1200);
        assertThat(s.eligible()).isEqualTo(120);
        assertThat(s.listingWarning()).isNull();
    }
}
