// The person's copy of the plan in the seven languages SPEC §1 and §9 name, translated by hand (not by machine).
// Easy-to-read Swedish (lättläst) follows Myndigheten för tillgängliga mediers advice: short sentences, everyday words.

export const SUMMARY_LANGUAGES = ['sv', 'sv-x-easy', 'en', 'ar', 'fa', 'fi', 'so'] as const;
export type SummaryLanguage = (typeof SUMMARY_LANGUAGES)[number];
export const RTL_LANGUAGES: ReadonlySet<SummaryLanguage> = new Set(['ar', 'fa']);

export interface SummaryTexts {
  /** The language's own name, for the language switcher. */
  name: string;
  /** Locale used for dates. */
  locale: string;
  title: string;
  intro: string;
  person: string;
  status: string;
  statuses: Record<'draft' | 'active' | 'completed' | 'revoked' | 'on-hold', string>;
  /** {v} version, {date} last changed. */
  version: string;
  lead: string;
  goals: string;
  subGoals: string;
  activities: string;
  activity: string;
  responsible: string;
  when: string;
  yourOwn: string;
  otherActors: string;
  noneOther: string;
  team: string;
  followUp: string;
  noFollowUp: string;
  rights: string;
  /** {date} */
  printed: string;
  print: string;
  roles: Record<
    'principal' | 'other-actor' | 'contact-person' | 'person' | 'relative' | 'guardian' | 'representative',
    string
  >;
}

export const TEXTS: Record<SummaryLanguage, SummaryTexts> = {
  sv: {
    name: 'Svenska',
    locale: 'sv-SE',
    title: 'Din samordnade individuella plan (SIP)',
    intro:
      'Det här är din plan. Den beskriver vad du och de verksamheter som hjälper dig har kommit överens om.',
    person: 'Planen gäller',
    status: 'Status',
    statuses: {
      draft: 'Utkast',
      active: 'Gäller',
      completed: 'Avslutad – målen är nådda',
      revoked: 'Avslutad',
      'on-hold': 'Pausad',
    },
    version: 'Version {v}, senast ändrad {date}',
    lead: 'Huvudansvarig för planen',
    goals: 'Dina mål',
    subGoals: 'Delmål',
    activities: 'Insatser',
    activity: 'Insats',
    responsible: 'Ansvarig',
    when: 'När',
    yourOwn: 'Det här gör du själv',
    otherActors: 'Insatser från andra aktörer',
    noneOther: 'Inga insatser från andra aktörer är planerade.',
    team: 'De som deltar',
    followUp: 'Nästa uppföljning',
    noFollowUp: 'Inget datum bestämt',
    rights:
      'Du kan när som helst avsluta din SIP. Planen ändras inte utan att du har godkänt det. Har du frågor, kontakta den verksamhet som är huvudansvarig.',
    printed: 'Utskriven {date}',
    print: 'Skriv ut',
    roles: {
      principal: 'Kommun eller region',
      'other-actor': 'Annan aktör',
      'contact-person': 'Kontaktperson',
      person: 'Du',
      relative: 'Närstående',
      guardian: 'Vårdnadshavare',
      representative: 'God man eller förvaltare',
    },
  },
  'sv-x-easy': {
    name: 'Lättläst svenska',
    locale: 'sv-SE',
    title: 'Din plan – SIP',
    intro: 'Det här är din plan. Här står det vad du och de som hjälper dig har bestämt tillsammans.',
    person: 'Planen är för',
    status: 'Planen just nu',
    statuses: {
      draft: 'Planen är inte klar än.',
      active: 'Planen gäller.',
      completed: 'Planen är klar. Du har nått dina mål.',
      revoked: 'Planen är slut.',
      'on-hold': 'Planen är pausad.',
    },
    version: 'Version {v}. Ändrad {date}.',
    lead: 'Ansvarar för hela planen',
    goals: 'Det här vill du nå',
    subGoals: 'Steg på vägen',
    activities: 'Det här ska göras',
    activity: 'Vad',
    responsible: 'Vem ansvarar',
    when: 'När',
    yourOwn: 'Det här gör du själv',
    otherActors: 'Det här gör andra',
    noneOther: 'Ingen annan gör något i planen.',
    team: 'De som är med',
    followUp: 'Nästa gång ni pratar om planen',
    noFollowUp: 'Inte bestämt än',
    rights:
      'Du bestämmer själv. Du kan sluta med din SIP när du vill. Ingen får ändra planen utan att fråga dig. Har du frågor? Ring den som ansvarar för hela planen.',
    printed: 'Utskriven {date}',
    print: 'Skriv ut',
    roles: {
      principal: 'Kommun eller region',
      'other-actor': 'Annan hjälp',
      'contact-person': 'Din kontakt',
      person: 'Du',
      relative: 'Någon nära dig',
      guardian: 'Vårdnadshavare',
      representative: 'God man eller förvaltare',
    },
  },
  en: {
    name: 'English',
    locale: 'en-GB',
    title: 'Your coordinated individual plan (SIP)',
    intro: 'This is your plan. It describes what you and the organisations helping you have agreed on.',
    person: 'This plan is for',
    status: 'Status',
    statuses: {
      draft: 'Draft',
      active: 'In force',
      completed: 'Closed – goals reached',
      revoked: 'Closed',
      'on-hold': 'On hold',
    },
    version: 'Version {v}, last changed {date}',
    lead: 'Lead organisation for the plan',
    goals: 'Your goals',
    subGoals: 'Sub-goals',
    activities: 'Activities',
    activity: 'Activity',
    responsible: 'Responsible',
    when: 'When',
    yourOwn: 'What you do yourself',
    otherActors: 'Measures by other organisations',
    noneOther: 'No measures by other organisations are planned.',
    team: 'Who takes part',
    followUp: 'Next follow-up',
    noFollowUp: 'No date set',
    rights:
      'You can end your SIP at any time. The plan is not changed without your approval. If you have questions, contact the lead organisation.',
    printed: 'Printed {date}',
    print: 'Print',
    roles: {
      principal: 'Municipality or region',
      'other-actor': 'Other organisation',
      'contact-person': 'Contact person',
      person: 'You',
      relative: 'Relative',
      guardian: 'Guardian',
      representative: 'Legal representative',
    },
  },
  ar: {
    name: 'العربية',
    locale: 'ar',
    title: 'خطتك الفردية المنسَّقة (SIP)',
    intro: 'هذه خطتك. وهي تصف ما اتفقت عليه أنت والجهات التي تساعدك.',
    person: 'هذه الخطة تخص',
    status: 'الحالة',
    statuses: {
      draft: 'مسودة',
      active: 'سارية',
      completed: 'منتهية – تم تحقيق الأهداف',
      revoked: 'منتهية',
      'on-hold': 'متوقفة مؤقتًا',
    },
    version: 'الإصدار {v}، آخر تعديل {date}',
    lead: 'الجهة المسؤولة الرئيسية عن الخطة',
    goals: 'أهدافك',
    subGoals: 'الأهداف الفرعية',
    activities: 'التدخلات',
    activity: 'التدخل',
    responsible: 'الجهة المسؤولة',
    when: 'متى',
    yourOwn: 'ما تقوم به بنفسك',
    otherActors: 'تدخلات من جهات أخرى',
    noneOther: 'لا توجد تدخلات مخطط لها من جهات أخرى.',
    team: 'المشاركون',
    followUp: 'موعد المتابعة القادمة',
    noFollowUp: 'لم يُحدَّد موعد بعد',
    rights:
      'يمكنك إنهاء خطتك (SIP) في أي وقت. لا يتم تغيير الخطة دون موافقتك. إذا كانت لديك أسئلة، فتواصل مع الجهة المسؤولة الرئيسية.',
    printed: 'طُبعت في {date}',
    print: 'طباعة',
    roles: {
      principal: 'البلدية أو المنطقة',
      'other-actor': 'جهة أخرى',
      'contact-person': 'الشخص المسؤول عن التواصل',
      person: 'أنت',
      relative: 'أحد الأقارب',
      guardian: 'وليّ الأمر',
      representative: 'الوصي القانوني',
    },
  },
  fa: {
    name: 'فارسی',
    locale: 'fa',
    title: 'برنامهٔ فردی هماهنگ‌شدهٔ شما (SIP)',
    intro:
      'این برنامهٔ شماست. در آن آمده است که شما و سازمان‌هایی که به شما کمک می‌کنند بر سر چه چیزهایی توافق کرده‌اید.',
    person: 'این برنامه مربوط است به',
    status: 'وضعیت',
    statuses: {
      draft: 'پیش‌نویس',
      active: 'معتبر',
      completed: 'پایان‌یافته – اهداف محقق شد',
      revoked: 'پایان‌یافته',
      'on-hold': 'موقتاً متوقف',
    },
    version: 'نسخهٔ {v}، آخرین تغییر {date}',
    lead: 'مسئول اصلی برنامه',
    goals: 'اهداف شما',
    subGoals: 'اهداف جزئی',
    activities: 'اقدامات',
    activity: 'اقدام',
    responsible: 'مسئول',
    when: 'زمان',
    yourOwn: 'کارهایی که خودتان انجام می‌دهید',
    otherActors: 'اقدامات سازمان‌های دیگر',
    noneOther: 'هیچ اقدامی از سوی سازمان‌های دیگر برنامه‌ریزی نشده است.',
    team: 'شرکت‌کنندگان',
    followUp: 'پیگیری بعدی',
    noFollowUp: 'هنوز تاریخی تعیین نشده است',
    rights:
      'شما می‌توانید هر زمان که بخواهید SIP خود را پایان دهید. برنامه بدون موافقت شما تغییر نمی‌کند. اگر سؤالی دارید، با سازمان مسئول اصلی تماس بگیرید.',
    printed: 'چاپ‌شده در {date}',
    print: 'چاپ',
    roles: {
      principal: 'شهرداری یا منطقه',
      'other-actor': 'سازمان دیگر',
      'contact-person': 'فرد رابط',
      person: 'شما',
      relative: 'خویشاوند',
      guardian: 'سرپرست قانونی',
      representative: 'قیم یا نمایندهٔ قانونی',
    },
  },
  fi: {
    name: 'Suomi',
    locale: 'fi-FI',
    title: 'Koordinoitu yksilöllinen suunnitelmasi (SIP)',
    intro:
      'Tämä on sinun suunnitelmasi. Siinä kerrotaan, mistä sinä ja sinua auttavat tahot olette sopineet.',
    person: 'Suunnitelma koskee',
    status: 'Tila',
    statuses: {
      draft: 'Luonnos',
      active: 'Voimassa',
      completed: 'Päättynyt – tavoitteet saavutettu',
      revoked: 'Päättynyt',
      'on-hold': 'Keskeytetty',
    },
    version: 'Versio {v}, muutettu viimeksi {date}',
    lead: 'Suunnitelmasta päävastuussa',
    goals: 'Tavoitteesi',
    subGoals: 'Välitavoitteet',
    activities: 'Toimenpiteet',
    activity: 'Toimenpide',
    responsible: 'Vastuussa',
    when: 'Milloin',
    yourOwn: 'Mitä teet itse',
    otherActors: 'Muiden toimijoiden toimenpiteet',
    noneOther: 'Muiden toimijoiden toimenpiteitä ei ole suunniteltu.',
    team: 'Osallistujat',
    followUp: 'Seuraava seuranta',
    noFollowUp: 'Päivämäärää ei ole sovittu',
    rights:
      'Voit lopettaa SIP-suunnitelman milloin tahansa. Suunnitelmaa ei muuteta ilman hyväksyntääsi. Jos sinulla on kysyttävää, ota yhteyttä päävastuussa olevaan tahoon.',
    printed: 'Tulostettu {date}',
    print: 'Tulosta',
    roles: {
      principal: 'Kunta tai alue',
      'other-actor': 'Muu toimija',
      'contact-person': 'Yhteyshenkilö',
      person: 'Sinä',
      relative: 'Läheinen',
      guardian: 'Huoltaja',
      representative: 'Edunvalvoja',
    },
  },
  so: {
    name: 'Soomaali',
    locale: 'so',
    title: 'Qorshahaaga shakhsiyeed ee la isku duway (SIP)',
    intro: "Kani waa qorshahaaga. Wuxuu sharxayaa waxa adiga iyo hay'adaha ku caawinaya aad isku afgarteen.",
    person: 'Qorshahan waxaa iska leh',
    status: 'Xaaladda',
    statuses: {
      draft: 'Qabyo',
      active: 'Wuu dhaqan galay',
      completed: 'Wuu dhammaaday – yoolalka waa la gaaray',
      revoked: 'Wuu dhammaaday',
      'on-hold': 'Waa la hakiyay',
    },
    version: 'Nuqulka {v}, markii ugu dambeysay ee la beddelay {date}',
    lead: "Hay'adda masuulka ka ah qorshaha oo dhan",
    goals: 'Yoolalkaaga',
    subGoals: 'Yoolal hoose',
    activities: 'Tallaabooyinka',
    activity: 'Tallaabo',
    responsible: 'Masuulka',
    when: 'Goorma',
    yourOwn: 'Waxa adigu aad samaynayso',
    otherActors: "Tallaabooyinka hay'ado kale",
    noneOther: "Ma jiraan tallaabooyin ay hay'ado kale qorsheeyeen.",
    team: 'Kuwa ka qaybgalaya',
    followUp: 'Dabagalka xiga',
    noFollowUp: 'Taariikh weli lama go’aamin',
    rights:
      "Waxaad joojin kartaa SIP-gaaga wakhti kasta. Qorshaha lama beddelo ogolaanshahaaga la'aantii. Haddii aad su'aalo qabto, la xiriir hay'adda masuulka ka ah qorshaha oo dhan.",
    printed: 'La daabacay {date}',
    print: 'Daabac',
    roles: {
      principal: 'Degmada ama gobolka',
      'other-actor': "Hay'ad kale",
      'contact-person': 'Qofka xiriirka',
      person: 'Adiga',
      relative: 'Qaraabo',
      guardian: 'Waalidka ama masuulka',
      representative: 'Wakiilka sharciga ah',
    },
  },
};

/** The summary language for a BCP 47 tag: an exact match, then the primary language, then Swedish. */
export function summaryLanguage(tag: string | undefined): SummaryLanguage | undefined {
  if (!tag) return undefined;
  const lower = tag.toLowerCase();
  const exact = SUMMARY_LANGUAGES.find((l) => l === lower);
  if (exact) return exact;
  const primary = lower.split('-')[0];
  return SUMMARY_LANGUAGES.find((l) => l === primary);
}
