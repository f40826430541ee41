// The schedule's words, shared by the settings (server) and the Scheduler tab (browser); key names follow 4D's.
export type Frequency = "Never" | "Hourly" | "Daily" | "Weekly" | "Monthly" | "Cron";
export const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
