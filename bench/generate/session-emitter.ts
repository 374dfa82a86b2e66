/**
 * Writes the messages of one session on one device, the way a Segment library would: it stamps
 * messageId, timestamp, anonymousId, userId (once logged in) and the context of every call.
 */
import { SHOP_ORIGIN } from './catalog.ts';
import type { Device } from './device.ts';
import type { IsoFormatter } from './iso-time.ts';
import type { Person } from './person.ts';
import type { Prng } from './prng.ts';
import type {
  GeneratedMessage,
  JsonObject,
  PageContext,
  SegmentContext,
  SegmentMessage,
} from './segment-message.ts';

/** What a device remembers between sessions (analytics.js keeps it in cookies/localStorage). */
export interface DeviceMemory {
  userId: string | undefined;
  /** The device already sent an identify carrying an e-mail. */
  emailSent: boolean;
  grouped: boolean;
  /** Epoch ms the device's last session ended. */
  busyUntil: number;
}

/** A page (web) or screen (app) the person looks at. */
export interface View {
  readonly name: string;
  readonly path: string;
  readonly title: string;
  readonly search?: string;
  /** Extra screen properties (apps only). */
  readonly screenProperties?: JsonObject;
}

type Campaign = NonNullable<SegmentContext['campaign']>;

export interface SessionSetup {
  readonly person: Person;
  readonly device: Device;
  readonly memory: DeviceMemory;
  /** The person's behaviour stream. */
  readonly prng: Prng;
  /** Where messages go; shared by the person's sessions. */
  readonly out: GeneratedMessage[];
  /** Epoch ms of the first message. */
  readonly start: number;
  readonly ip: string;
  readonly formatTime: IsoFormatter;
}

export class SessionEmitter {
  /** Epoch ms of the next message. */
  time: number;
  private page: PageContext | null = null;
  private campaign: Campaign | null = null;
  private entryReferrer = '';
  private readonly baseContext: SegmentContext;

  readonly person: Person;
  readonly device: Device;
  readonly memory: DeviceMemory;
  readonly prng: Prng;
  private readonly out: GeneratedMessage[];
  private readonly formatTime: IsoFormatter;

  constructor(setup: SessionSetup) {
    const { person, device } = setup;
    this.person = person;
    this.device = device;
    this.memory = setup.memory;
    this.prng = setup.prng;
    this.out = setup.out;
    this.formatTime = setup.formatTime;
    this.time = setup.start;
    const consent =
      person.consent === null ? {} : { consent: Object.freeze({ categoryPreferences: person.consent }) };
    this.baseContext = {
      ...device.context,
      locale: person.locale,
      timezone: person.country.timezone,
      ip: setup.ip,
      ...consent,
    };
  }

  /** Lets time pass between two actions: at least a second, `meanSeconds` on average. */
  wait(meanSeconds: number): void {
    // Capped so that a session never runs for hours and past the end of the period.
    this.time += 1000 + Math.floor(Math.min(this.prng.exponential(meanSeconds), 5 * meanSeconds) * 1000);
  }

  /**
   * Where the session comes from: the referrer of the landing page and the UTM parameters of its
   * URL (analytics.js only reports those on the landing page).
   */
  enterFrom(referrer: string, campaign: Campaign | null): void {
    this.entryReferrer = referrer;
    this.campaign = campaign === null ? null : Object.freeze(campaign);
  }

  /** The query string the landing URL carries when the visit comes from a campaign. */
  campaignSearch(): string {
    const c = this.campaign;
    return c === null ? '' : `?utm_source=${c.source}&utm_medium=${c.medium}&utm_campaign=${c.name}`;
  }

  /** A `page` call on the web, a `screen` call in the apps. */
  visit(view: View): void {
    if (this.device.platform === 'app') {
      const properties = view.screenProperties ?? {};
      this.push({
        type: 'screen',
        ...this.stamp(),
        ...this.ids(),
        name: view.name,
        properties,
        context: this.context(),
      });
      return;
    }
    const search = view.search ?? '';
    const referrer = this.page?.url ?? this.entryReferrer;
    if (this.page !== null) this.campaign = null;
    const url = SHOP_ORIGIN + view.path + search;
    this.page = Object.freeze({ path: view.path, referrer, search, title: view.title, url });
    const properties = { ...this.page };
    this.push({
      type: 'page',
      ...this.stamp(),
      ...this.ids(),
      name: view.name,
      properties,
      context: this.context(),
    });
  }

  track(event: string, properties: JsonObject): void {
    this.push({ type: 'track', ...this.stamp(), ...this.ids(), event, properties, context: this.context() });
  }

  /** An identify call; with `login` the device sends the userId from now on. */
  identify(traits: JsonObject, login: string | null): void {
    if (login !== null) this.memory.userId = login;
    this.push({ type: 'identify', ...this.stamp(), ...this.ids(), traits, context: this.context() });
  }

  group(groupId: string, traits: JsonObject): void {
    this.push({ type: 'group', ...this.stamp(), ...this.ids(), groupId, traits, context: this.context() });
  }

  /** Links the device's anonymous history to `userId` (Segment `alias`). */
  alias(userId: string): void {
    const previousId = this.device.anonymousId;
    this.push({ type: 'alias', ...this.stamp(), previousId, userId, context: this.context() });
  }

  /** Kiosks forget who was logged in at the end of each session. */
  logout(): void {
    this.memory.userId = undefined;
    this.memory.emailSent = false;
    this.memory.grouped = false;
  }

  private ids(): { anonymousId: string; userId?: string } {
    const userId = this.memory.userId;
    return userId === undefined
      ? { anonymousId: this.device.anonymousId }
      : { anonymousId: this.device.anonymousId, userId };
  }

  /** messageId and timestamp, right after `type`: easier to read in NDJSON dumps. */
  private stamp(): { messageId: string; timestamp: string } {
    return { messageId: this.prng.uuid(), timestamp: this.formatTime(this.time) };
  }

  /** A fresh top-level object per message; the nested ones are shared and frozen. */
  private context(): SegmentContext {
    const context: SegmentContext = { ...this.baseContext };
    if (this.page !== null && this.device.platform === 'web') context.page = this.page;
    if (this.campaign !== null) context.campaign = this.campaign;
    return context;
  }

  private push(message: SegmentMessage): void {
    this.out.push({ personId: this.person.personId, time: this.time, message });
    this.time += 200 + this.prng.int(0, 2000);
  }
}
