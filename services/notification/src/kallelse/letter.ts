// The citizen kallelse: the printable letter that summons the person to their SIP meeting, in their preferred
// language (SPEC §1, §9): what SIP is, why they are invited, who comes, when and where or how to join, and their
// rights. Right-to-left for Arabic and Farsi. It names no one: the unit prints it and hands it over.
import { html, raw } from 'hono/html';
import type { MeetingRow } from '../db/schema.ts';

export const EASY_SWEDISH = 'sv-x-lattlast';

interface Texts {
  label: string;
  locale: string;
  dir: 'ltr' | 'rtl';
  title: string;
  intro: string;
  whatTitle: string;
  what: string;
  whyTitle: string;
  why: string;
  whenTitle: string;
  whereTitle: string;
  physical: string;
  video: string;
  phone: string;
  howMissing: string;
  whoTitle: string;
  whoIntro: string;
  rightsTitle: string;
  rights: [string, string, string, string];
  contactTitle: string;
  contact: string;
  closing: string;
}

/** Each text is a real translation, not a machine placeholder; `{x}` marks are filled in per meeting. */
export const LETTERS: Record<string, Texts> = {
  sv: {
    label: 'Svenska',
    locale: 'sv-SE',
    dir: 'ltr',
    title: 'Kallelse till möte om din samordnade individuella plan (SIP)',
    intro: 'Du är välkommen till ett möte om din samordnade individuella plan, SIP.',
    whatTitle: 'Vad är en SIP?',
    what: 'En SIP är en plan som görs när du behöver stöd från både kommunen och regionen, till exempel hälso- och sjukvård, hemtjänst eller socialtjänst. I planen står vem som gör vad, så att du får rätt hjälp och slipper samordna den själv.',
    whyTitle: 'Varför får du den här kallelsen?',
    why: 'Någon av dem som ger dig vård eller stöd har sett att flera verksamheter behöver samarbeta kring dig. Du har gett ditt samtycke till att de träffas och planerar tillsammans med dig.',
    whenTitle: 'När?',
    whereTitle: 'Var och hur?',
    physical: 'Plats: {place}',
    video: 'Mötet hålls via video. Anslut här: {url}',
    phone: 'Mötet hålls per telefon. Ring: {phone}',
    howMissing: 'Den som kallar dig berättar hur du ansluter till mötet.',
    whoTitle: 'Vilka kommer?',
    whoIntro: 'Du själv och:',
    rightsTitle: 'Dina rättigheter',
    rights: [
      'Det är du som bestämmer. Ingen information om dig delas mellan verksamheterna utan ditt samtycke, och du kan när som helst ta tillbaka ditt samtycke.',
      'Du får ta med en närstående eller någon annan som stöd på mötet.',
      'Du kan när som helst avsluta din SIP.',
      'Du har rätt till tolk. Säg till om du behöver det.',
    ],
    contactTitle: 'Frågor eller förhinder?',
    contact: 'Kontakta {org}.',
    closing: 'Välkommen!',
  },
  [EASY_SWEDISH]: {
    label: 'Lättläst svenska',
    locale: 'sv-SE',
    dir: 'ltr',
    title: 'Kallelse till SIP-möte',
    intro: 'Du är inbjuden till ett möte. Mötet handlar om din SIP.',
    whatTitle: 'Vad är SIP?',
    what: 'SIP betyder samordnad individuell plan. Det är en plan för dig. Planen behövs när du får hjälp av både kommunen och regionen. I planen står vem som hjälper dig med vad.',
    whyTitle: 'Varför får du det här brevet?',
    why: 'Du får hjälp från flera ställen. De vill göra planen tillsammans med dig. Du har sagt ja till det.',
    whenTitle: 'När är mötet?',
    whereTitle: 'Var är mötet?',
    physical: 'Mötet är här: {place}',
    video: 'Mötet är på video. Klicka på länken: {url}',
    phone: 'Mötet är på telefon. Ring det här numret: {phone}',
    howMissing: 'Den som bjöd in dig berättar hur du kommer med i mötet.',
    whoTitle: 'Vilka kommer?',
    whoIntro: 'Du kommer. De här kommer också:',
    rightsTitle: 'Det här bestämmer du',
    rights: [
      'Du bestämmer. De får bara prata med varandra om dig om du säger ja. Du kan ändra dig när du vill.',
      'Du får ta med någon du litar på, till exempel en anhörig.',
      'Du kan sluta med SIP när du vill.',
      'Du kan få en tolk. Säg till om du vill det.',
    ],
    contactTitle: 'Har du frågor? Kan du inte komma?',
    contact: 'Ring eller skriv till {org}.',
    closing: 'Välkommen!',
  },
  en: {
    label: 'English',
    locale: 'en-GB',
    dir: 'ltr',
    title: 'Invitation to a meeting about your coordinated individual plan (SIP)',
    intro: 'You are invited to a meeting about your coordinated individual plan, SIP.',
    whatTitle: 'What is a SIP?',
    what: 'A SIP is a plan made when you need support from both the municipality and the region, for example health care, home care or social services. The plan says who does what, so that you get the right help without having to coordinate it yourself.',
    whyTitle: 'Why have you received this letter?',
    why: 'One of the services that give you care or support has seen that several services need to work together with you. You have consented to them meeting and planning together with you.',
    whenTitle: 'When?',
    whereTitle: 'Where and how?',
    physical: 'Place: {place}',
    video: 'The meeting is held by video. Join here: {url}',
    phone: 'The meeting is held by telephone. Call: {phone}',
    howMissing: 'The service that invited you will tell you how to join the meeting.',
    whoTitle: 'Who will be there?',
    whoIntro: 'You, and:',
    rightsTitle: 'Your rights',
    rights: [
      'You decide. No information about you is shared between the services without your consent, and you can withdraw your consent at any time.',
      'You may bring a relative or someone else to support you at the meeting.',
      'You can end your SIP at any time.',
      'You have the right to an interpreter. Tell us if you need one.',
    ],
    contactTitle: 'Questions, or unable to come?',
    contact: 'Contact {org}.',
    closing: 'Welcome!',
  },
  ar: {
    label: 'العربية (arabiska)',
    locale: 'ar',
    dir: 'rtl',
    title: 'دعوة إلى اجتماع بشأن خطتك الفردية المنسقة (SIP)',
    intro: 'ندعوك إلى اجتماع بشأن خطتك الفردية المنسقة (SIP).',
    whatTitle: 'ما هي الخطة الفردية المنسقة؟',
    what: 'هي خطة توضع عندما تحتاج إلى دعم من البلدية ومن المنطقة معًا، مثل الرعاية الصحية أو خدمة الرعاية المنزلية أو الخدمات الاجتماعية. تبيّن الخطة من يقوم بماذا، حتى تحصل على المساعدة المناسبة دون أن تضطر إلى التنسيق بنفسك.',
    whyTitle: 'لماذا وصلتك هذه الرسالة؟',
    why: 'لاحظت إحدى الجهات التي تقدم لك الرعاية أو الدعم أن عدة جهات تحتاج إلى التعاون من أجلك. وقد أعطيت موافقتك على أن تلتقي هذه الجهات وتخطط معك.',
    whenTitle: 'متى؟',
    whereTitle: 'أين وكيف؟',
    physical: 'المكان: {place}',
    video: 'يُعقد الاجتماع عبر الفيديو. انضم من هنا: {url}',
    phone: 'يُعقد الاجتماع عبر الهاتف. اتصل بالرقم: {phone}',
    howMissing: 'ستخبرك الجهة التي دعتك بكيفية الانضمام إلى الاجتماع.',
    whoTitle: 'من سيحضر؟',
    whoIntro: 'أنت، بالإضافة إلى:',
    rightsTitle: 'حقوقك',
    rights: [
      'أنت من يقرر. لا تُشارَك أي معلومات عنك بين الجهات دون موافقتك، ويمكنك سحب موافقتك في أي وقت.',
      'يحق لك أن تصطحب معك أحد أقاربك أو شخصًا آخر لدعمك في الاجتماع.',
      'يمكنك إنهاء خطتك الفردية المنسقة في أي وقت.',
      'يحق لك الحصول على مترجم. أخبرنا إذا كنت بحاجة إليه.',
    ],
    contactTitle: 'هل لديك أسئلة أو لا تستطيع الحضور؟',
    contact: 'تواصل مع {org}.',
    closing: 'أهلًا وسهلًا بك!',
  },
  fa: {
    label: 'فارسی (persiska)',
    locale: 'fa-IR-u-ca-gregory',
    dir: 'rtl',
    title: 'دعوت‌نامه برای جلسهٔ برنامهٔ فردی هماهنگ‌شدهٔ شما (SIP)',
    intro: 'شما به جلسه‌ای دربارهٔ برنامهٔ فردی هماهنگ‌شدهٔ خود (SIP) دعوت شده‌اید.',
    whatTitle: 'SIP چیست؟',
    what: 'SIP برنامه‌ای است که وقتی به حمایت هم از کمون (شهرداری) و هم از رژیون (استان) نیاز دارید تهیه می‌شود، برای مثال خدمات درمانی، مراقبت در منزل یا خدمات اجتماعی. در این برنامه مشخص می‌شود چه کسی چه کاری انجام می‌دهد تا شما کمک مناسب را دریافت کنید و لازم نباشد خودتان آن را هماهنگ کنید.',
    whyTitle: 'چرا این نامه را دریافت کرده‌اید؟',
    why: 'یکی از نهادهایی که به شما مراقبت یا حمایت ارائه می‌دهد متوجه شده است که چند نهاد باید برای شما با هم همکاری کنند. شما موافقت کرده‌اید که آنها با هم و همراه با شما دیدار و برنامه‌ریزی کنند.',
    whenTitle: 'چه زمانی؟',
    whereTitle: 'کجا و چگونه؟',
    physical: 'مکان: {place}',
    video: 'جلسه به صورت تصویری برگزار می‌شود. از این پیوند وارد شوید: {url}',
    phone: 'جلسه به صورت تلفنی برگزار می‌شود. با این شماره تماس بگیرید: {phone}',
    howMissing: 'نهادی که شما را دعوت کرده است به شما می‌گوید چگونه وارد جلسه شوید.',
    whoTitle: 'چه کسانی شرکت می‌کنند؟',
    whoIntro: 'خود شما و:',
    rightsTitle: 'حقوق شما',
    rights: [
      'تصمیم با شماست. هیچ اطلاعاتی دربارهٔ شما بدون رضایت شما میان نهادها به اشتراک گذاشته نمی‌شود و شما می‌توانید هر زمان رضایت خود را پس بگیرید.',
      'شما می‌توانید یکی از بستگان یا فرد دیگری را برای حمایت با خود به جلسه بیاورید.',
      'شما می‌توانید هر زمان که بخواهید SIP خود را پایان دهید.',
      'شما حق دارید مترجم داشته باشید. اگر به مترجم نیاز دارید، اطلاع دهید.',
    ],
    contactTitle: 'سؤالی دارید یا نمی‌توانید بیایید؟',
    contact: 'با {org} تماس بگیرید.',
    closing: 'خوش آمدید!',
  },
  fi: {
    label: 'Suomi (finska)',
    locale: 'fi-FI',
    dir: 'ltr',
    title: 'Kutsu kokoukseen yhteensovitetusta yksilöllisestä suunnitelmastasi (SIP)',
    intro:
      'Sinut kutsutaan kokoukseen, jossa käsitellään yhteensovitettua yksilöllistä suunnitelmaasi (SIP).',
    whatTitle: 'Mikä on SIP?',
    what: 'SIP on suunnitelma, joka tehdään, kun tarvitset tukea sekä kunnalta että alueelta, esimerkiksi terveydenhuollosta, kotipalvelusta tai sosiaalipalveluista. Suunnitelmaan kirjataan, kuka tekee mitä, jotta saat oikeanlaista apua eikä sinun tarvitse itse sovittaa sitä yhteen.',
    whyTitle: 'Miksi saat tämän kirjeen?',
    why: 'Joku sinua hoitavista tai tukevista tahoista on huomannut, että useiden toimijoiden on tehtävä yhteistyötä kanssasi. Olet antanut suostumuksesi siihen, että he tapaavat ja suunnittelevat yhdessä kanssasi.',
    whenTitle: 'Milloin?',
    whereTitle: 'Missä ja miten?',
    physical: 'Paikka: {place}',
    video: 'Kokous pidetään videoyhteydellä. Liity tästä: {url}',
    phone: 'Kokous pidetään puhelimitse. Soita numeroon: {phone}',
    howMissing: 'Kutsun lähettänyt taho kertoo, miten liityt kokoukseen.',
    whoTitle: 'Ketkä osallistuvat?',
    whoIntro: 'Sinä itse sekä:',
    rightsTitle: 'Oikeutesi',
    rights: [
      'Sinä päätät. Sinua koskevia tietoja ei jaeta toimijoiden kesken ilman suostumustasi, ja voit perua suostumuksesi milloin tahansa.',
      'Voit ottaa kokoukseen mukaan läheisen tai muun tukihenkilön.',
      'Voit lopettaa SIP:n milloin tahansa.',
      'Sinulla on oikeus tulkkiin. Kerro, jos tarvitset tulkkia.',
    ],
    contactTitle: 'Kysyttävää tai este?',
    contact: 'Ota yhteyttä: {org}.',
    closing: 'Tervetuloa!',
  },
  so: {
    label: 'Soomaali (somaliska)',
    locale: 'so-SO',
    dir: 'ltr',
    title: 'Martiqaad shir ku saabsan qorshahaaga shakhsiga ah ee la isku duway (SIP)',
    intro: 'Waxaa lagugu martiqaaday shir ku saabsan qorshahaaga shakhsiga ah ee la isku duway (SIP).',
    whatTitle: 'Waa maxay SIP?',
    what: 'SIP waa qorshe la sameeyo marka aad u baahan tahay taageero ka timaada degmada (kommun) iyo gobolka (region) labadaba, tusaale ahaan daryeel caafimaad, daryeelka guriga ama adeegyada bulshada. Qorshaha waxaa ku qoran cidda waxa qabanaysa, si aad u hesho caawimaad sax ah adigoon keligaa isku dubbaridin.',
    whyTitle: 'Maxaad u heshay warqaddan?',
    why: "Mid ka mid ah hay'adaha ku siiya daryeel ama taageero ayaa arkay in dhowr hay'adood ay u baahan yihiin inay kula wada shaqeeyaan. Waxaad oggolaatay inay kulmaan oo ay kula qorsheeyaan.",
    whenTitle: 'Goorma?',
    whereTitle: 'Halkee iyo sidee?',
    physical: 'Goobta: {place}',
    video: 'Shirka waxaa lagu qabanayaa muuqaal (video). Halkan ka soo gal: {url}',
    phone: 'Shirka waxaa lagu qabanayaa telefoon. Wac: {phone}',
    howMissing: "Hay'adda ku martiqaaday ayaa kuu sheegi doonta sida aad shirka ugu soo biirayso.",
    whoTitle: 'Yaa imanaya?',
    whoIntro: 'Adiga iyo:',
    rightsTitle: 'Xuquuqdaada',
    rights: [
      "Adiga ayaa go'aaminaya. Macluumaad adiga kugu saabsan lama wadaago hay'adaha dhexdooda oggolaanshahaaga la'aantiis, waxaadna dib ula noqon kartaa oggolaanshahaaga waqti kasta.",
      'Waxaad shirka la iman kartaa qof qaraabo ah ama qof kale oo ku taageera.',
      'Waxaad joojin kartaa SIP-kaaga waqti kasta.',
      'Waxaad xaq u leedahay turjubaan. Noo sheeg haddii aad u baahan tahay.',
    ],
    contactTitle: "Su'aalo ma qabtaa, mise ma iman kartid?",
    contact: 'La xiriir {org}.',
    closing: 'Ku soo dhawoow!',
  },
};

export const KALLELSE_LANGUAGES = Object.entries(LETTERS).map(([code, t]) => ({ code, label: t.label }));

/** The letter language for a BCP 47 code: exact, then the primary language, else Swedish. */
export function letterLanguage(code: string | null | undefined): string {
  if (!code) return 'sv';
  const lower = code.toLowerCase();
  if (lower === EASY_SWEDISH || lower === 'sv-easy' || lower === 'sv-x-easy') return EASY_SWEDISH;
  if (LETTERS[lower]) return lower;
  const primary = lower.split('-')[0] ?? '';
  return LETTERS[primary] ? primary : 'sv';
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');
}

export interface LetterInput {
  meeting: MeetingRow;
  language: string;
  /** Display name of the unit that summons (for "contact"). */
  contactOrg: string;
  /** Shown only on screen to staff: the letter goes through the unit (protected identity). */
  staffNote?: string;
}

/** The printable HTML letter. */
export function kallelseHtml(input: LetterInput) {
  const code = letterLanguage(input.language);
  const t = LETTERS[code] as Texts;
  const m = input.meeting;
  const date = new Intl.DateTimeFormat(t.locale, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Europe/Stockholm',
  }).format(m.start);
  const time = new Intl.DateTimeFormat(t.locale, {
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'Europe/Stockholm',
  });
  const loc = m.location ?? {};
  const where =
    m.mode === 'physical' && loc.place
      ? fill(t.physical, { place: loc.place })
      : m.mode === 'video' && loc.url
        ? fill(t.video, { url: loc.url })
        : m.mode === 'phone' && loc.phone
          ? fill(t.phone, { phone: loc.phone })
          : t.howMissing;
  const names = m.orgs.map((o) => m.orgNames?.[o] ?? o);
  const htmlLang = code === EASY_SWEDISH ? 'sv' : code;
  return html`<!doctype html>
<html lang="${htmlLang}" dir="${t.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title}</title>
<style>${raw(`
body { font: 12pt/1.6 "Noto Sans", "Noto Naskh Arabic", system-ui, sans-serif; color: #111; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.5rem; }
.staff { border: 2px solid #0b4f8a; padding: .75rem 1rem; border-radius: 6px; font-family: system-ui, sans-serif; }
.staff button { font: inherit; background: #0b4f8a; color: #fff; border: 0; padding: .4rem .8rem; border-radius: 4px; }
@media print { .staff { display: none; } body { margin: 0; } }
`)}</style>
</head>
<body>
<aside class="staff" lang="sv" dir="ltr">
  <p>Kallelse på ${t.label}. Skriv ut och lämna eller skicka den till personen.</p>
  ${input.staffNote ? html`<p><strong>${input.staffNote}</strong></p>` : ''}
  <button type="button" onclick="window.print()">Skriv ut</button>
</aside>
<article>
<h1>${t.title}</h1>
<p>${t.intro}</p>
<h2>${t.whenTitle}</h2>
<p><time datetime="${m.start.toISOString()}">${date}, ${time.format(m.start)}–${time.format(m.end)}</time></p>
<h2>${t.whereTitle}</h2>
<p>${where}</p>
<h2>${t.whoTitle}</h2>
<p>${t.whoIntro}</p>
<ul>${names.map((n) => html`<li>${n}</li>`)}</ul>
<h2>${t.whatTitle}</h2>
<p>${t.what}</p>
<h2>${t.whyTitle}</h2>
<p>${t.why}</p>
<h2>${t.rightsTitle}</h2>
<ul>${t.rights.map((r) => html`<li>${r}</li>`)}</ul>
<h2>${t.contactTitle}</h2>
<p>${fill(t.contact, { org: input.contactOrg })}</p>
<p>${t.closing}</p>
</article>
</body>
</html>`;
}
