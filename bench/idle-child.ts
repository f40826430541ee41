// Baseline for RSS comparisons: a child that loads the writer and does nothing.
import "../server/zip/zip-writer";
import { report, selfMaxRss } from "./measure";

report({ maxRss: selfMaxRss() });
