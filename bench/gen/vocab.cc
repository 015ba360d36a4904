#include "vocab.h"

namespace syncmgr::gen {
namespace {

constexpr City kCities[] = {
    {"Zürich", "CH", "CHF", 47376887, 8541694, "80##", "+41 44", "%strasse", 14500},
    {"Genève", "CH", "CHF", 46204391, 6143158, "12##", "+41 22", "Rue de %", 15200},
    {"Basel", "CH", "CHF", 47559601, 7588576, "40##", "+41 61", "%gasse", 10800},
    {"Bern", "CH", "CHF", 46947974, 7447447, "30##", "+41 31", "%weg", 9900},
    {"Lausanne", "CH", "CHF", 46519962, 6633597, "10##", "+41 21", "Avenue de %", 11900},
    {"Berlin", "DE", "EUR", 52520008, 13404954, "1####", "+49 30", "%straße", 5400},
    {"München", "DE", "EUR", 48137154, 11576124, "8####", "+49 89", "%straße", 9100},
    {"Hamburg", "DE", "EUR", 53551086, 9993682, "2####", "+49 40", "%weg", 6300},
    {"Köln", "DE", "EUR", 50937531, 6960279, "5####", "+49 221", "%gasse", 4700},
    {"Frankfurt am Main", "DE", "EUR", 50110922, 8682127, "60###", "+49 69", "%allee", 6100},
    {"Wien", "AT", "EUR", 48208176, 16373819, "1###", "+43 1", "%gasse", 6200},
    {"Graz", "AT", "EUR", 47070714, 15439504, "80##", "+43 316", "%platz", 3900},
    {"Salzburg", "AT", "EUR", 47809490, 13055010, "50##", "+43 662", "%straße", 6000},
    {"Paris", "FR", "EUR", 48856614, 2352222, "750##", "+33 1", "Rue %", 10400},
    {"Lyon", "FR", "EUR", 45764043, 4835659, "6900#", "+33 4", "Rue de %", 5100},
    {"Marseille", "FR", "EUR", 43296482, 5369780, "130##", "+33 4", "Boulevard %", 3700},
    {"Bordeaux", "FR", "EUR", 44837789, -579541, "330##", "+33 5", "Cours %", 4600},
    {"Milano", "IT", "EUR", 45464204, 9189982, "201##", "+39 02", "Via %", 5200},
    {"Roma", "IT", "EUR", 41902783, 12496366, "001##", "+39 06", "Via %", 3900},
    {"Torino", "IT", "EUR", 45070312, 7686856, "101##", "+39 011", "Corso %", 2400},
    {"Madrid", "ES", "EUR", 40416775, -3703790, "280##", "+34 91", "Calle de %", 4300},
    {"Barcelona", "ES", "EUR", 41385064, 2173403, "080##", "+34 93", "Carrer de %", 4500},
    {"Valencia", "ES", "EUR", 39469907, -376288, "460##", "+34 96", "Calle %", 2300},
    {"Lisboa", "PT", "EUR", 38722252, -9139337, "1###-###", "+351 21", "Rua %", 5000},
    {"Porto", "PT", "EUR", 41157944, -8629105, "4###-###", "+351 22", "Rua de %", 3100},
    {"Amsterdam", "NL", "EUR", 52367573, 4904139, "10## @@", "+31 20", "%straat", 7600},
    {"Rotterdam", "NL", "EUR", 51924420, 4477733, "30## @@", "+31 10", "%laan", 4200},
    {"Bruxelles", "BE", "EUR", 50850346, 4351721, "10##", "+32 2", "Rue %", 3400},
    {"København", "DK", "DKK", 55676097, 12568337, "1###", "+45 33", "%gade", 52000},
    {"Malmö", "SE", "SEK", 55604981, 13003822, "21# ##", "+46 40", "%gatan", 36000},
    {"Stockholm", "SE", "SEK", 59329323, 18068581, "11# ##", "+46 8", "%vägen", 98000},
    {"Kraków", "PL", "PLN", 50064650, 19944980, "30-###", "+48 12", "ulica %", 14500},
    {"Warszawa", "PL", "PLN", 52229676, 21012229, "00-###", "+48 22", "ulica %", 16500},
    {"Praha", "CZ", "CZK", 50075538, 14437800, "1## ##", "+420 2", "%ská", 125000},
    {"London", "GB", "GBP", 51507351, -127758, "@@# #@@", "+44 20", "% Road", 10600},
    {"Manchester", "GB", "GBP", 53480759, -2242631, "M# #@@", "+44 161", "% Street", 3300},
    {"Edinburgh", "GB", "GBP", 55953252, -3188267, "EH# #@@", "+44 131", "% Place", 3900},
    {"Dublin", "IE", "EUR", 53349805, -6260310, "D0# @#@#", "+353 1", "% Street", 5800},
};

constexpr std::string_view kStreetNames[] = {
    "Linden",      "Birken",         "Kastanien", "Rosen",      "Sonnen",  "Berg",       "See",
    "Bahnhof",     "Kirch",          "Schul",     "Garten",     "Mühlen",  "Wald",       "Feld",
    "Hafen",       "Markt",          "Park",      "Brunnen",    "Eichen",  "Ahorn",      "la Paix",
    "Victor Hugo", "la République",  "Garibaldi", "Mazzini",    "Cavour",  "Verdi",      "Alcalá",
    "Goya",        "Serrano",        "Augusta",   "Oak",        "Elm",     "Maple",      "Church",
    "Station",     "Mill",           "Queen's",   "King's",     "Prinsen", "Keizers",    "Heeren",
    "Nørre",       "Vester",         "Öster",     "Karl Johan", "Długa",   "Floriańska", "Vinohrad",
    "Liberdade",   "Almirante Reis", "São Bento", "Rembrandt",  "Mozart",  "Schiller",   "Goethe",
    "Beethoven",   "Haydn",          "Kepler",    "Einstein",
};

constexpr std::string_view kFirstNames[] = {
    "Anna",   "Lukas",  "Sophie", "Jonas",  "Marie", "Luca",   "Emma",   "Noah",
    "Léa",    "Louis",  "Giulia", "Marco",  "Lucía", "Hugo",   "Inês",   "João",
    "Femke",  "Daan",   "Freja",  "Mads",   "Ebba",  "Oskar",  "Zofia",  "Jakub",
    "Tereza", "Tomáš",  "Olivia", "Oliver", "Aoife", "Seán",   "Chloé",  "Mathéo",
    "Elena",  "Matteo", "Nina",   "Felix",  "Clara", "Julien", "Ingrid", "Björn",
};

constexpr std::string_view kLastNames[] = {
    "Müller",    "Schneider", "Fischer", "Weber",      "Meier",     "Keller",  "Huber",
    "Martin",    "Bernard",   "Dubois",  "Rossi",      "Russo",     "Ferrari", "García",
    "Fernández", "Silva",     "Santos",  "de Jong",    "Jansen",    "Nielsen", "Jensen",
    "Andersson", "Johansson", "Nowak",   "Kowalski",   "Novák",     "Dvořák",  "Smith",
    "Jones",     "Murphy",    "O'Brien", "Lefèvre",    "Moreau",    "Bianchi", "Romano",
    "Gruber",    "Wagner",    "Brunner", "Zimmermann", "Lindqvist",
};

constexpr std::string_view kAgencies[] = {
    "Alpenblick Immobilien",
    "Stadtwohnen",
    "Maison & Jardin",
    "Casa Nostra",
    "Urban Nest",
    "Riverside Estates",
    "Nordic Homes",
    "Hausfinder",
    "Immo Prime",
    "Blue Door Realty",
    "Terra Casa",
    "Skyline Living",
    "Vieux Port Immobilier",
    "Grachtenhuis",
    "Castle Lane Homes",
    "Porta Nova",
    "Seeblick Partner",
    "Green Valley Realty",
    "Altstadt Makler",
    "Lumen Properties",
};

constexpr std::string_view kFeatures[] = {
    "balcony",
    "terrace",
    "garden",
    "elevator",
    "parking",
    "garage",
    "cellar",
    "attic",
    "fireplace",
    "dishwasher",
    "washing_machine",
    "floor_heating",
    "air_conditioning",
    "heat_pump",
    "solar_panels",
    "fiber_internet",
    "wheelchair_access",
    "pets_allowed",
    "furnished",
    "new_building",
    "renovated",
    "minergie",
    "sea_view",
    "lake_view",
    "mountain_view",
    "concierge",
    "swimming_pool",
    "gym",
    "sauna",
    "bike_storage",
    "ev_charger",
    "smart_home",
    "double_glazing",
    "storage_room",
    "quiet_location",
    "near_public_transport",
};

constexpr std::string_view kPropertyTypes[] = {
    "apartment",  "apartment", "apartment", "studio",         "loft",
    "maisonette", "penthouse", "house",     "terraced_house", "villa",
};

constexpr std::string_view kTitleAdjectives[] = {
    "Bright",          "Spacious",  "Charming",      "Modern",      "Quiet",    "Cosy",
    "Elegant",         "Renovated", "Sunny",         "Stylish",     "Generous", "Exclusive",
    "Family-friendly", "Central",   "Light-flooded", "Newly built", "Historic", "Characterful",
};

constexpr std::string_view kTitleHooks[] = {
    "with balcony",         "with garden",
    "near the old town",    "with lake view",
    "close to the station", "in a green setting",
    "with open kitchen",    "on the top floor",
    "with roof terrace",    "in a quiet street",
    "with parking space",   "– first occupancy",
    "with \"wow\" factor",  "near schools and shops",
    "with home office",     "in the heart of the city",
};

constexpr std::string_view kDescriptionSentences[] = {
    "This bright apartment offers a generous living and dining area with large windows facing "
    "south",
    "The open kitchen is fully equipped with a ceramic hob, oven, dishwasher and plenty of storage "
    "space",
    "Oak parquet floors run through all rooms, while the bathroom features natural stone tiles",
    "A spacious balcony invites you to enjoy breakfast in the morning sun",
    "The building was carefully renovated in recent years, including the roof and the façade",
    "Public transport, schools, a supermarket and several cafés are within a few minutes' walk",
    "The master bedroom has a walk-in wardrobe and an en-suite shower room",
    "Heating is provided by a modern heat pump, which keeps running costs low",
    "A private cellar compartment and a shared bicycle room are included",
    "Parking is available in the underground garage for an additional monthly fee",
    "The quiet residential street is lined with mature trees",
    "From the living room you have an unobstructed view of the surrounding hills",
    "All windows were replaced with triple glazing, so the apartment stays quiet and warm",
    "The landlord is looking for a reliable, non-smoking tenant for a long-term lease",
    "Viewings can be arranged by phone or email at short notice",
    "The flat is on the third floor of a well-kept building with an elevator",
    "A laundry room with washing machine and tumble dryer is shared by four households",
    "The garden is shared with one other household and is maintained by a gardener",
    "Children will love the playground just across the road",
    "The local market on Saturdays offers fresh regional produce",
    "Energy rating: B, with a consumption of 62 kWh/m² per year",
    "The property is sold with a notarised survey and all permits in order",
    "Service charges cover heating, hot water, caretaker and the maintenance of common areas",
    "Pets are welcome after consultation with the owner",
    "The guest toilet near the entrance is practical when friends come over",
    "Built-in wardrobes in the hallway provide extra storage",
    "The living area of about 20 m² can be divided to create a home office",
    "Fibre internet up to 1 Gbit/s is available in the building",
    "The owners describe the neighbourhood as \"calm, green and friendly\"",
    "Motorway access is ten minutes away by car",
    "The attic can be converted, subject to planning permission",
    "A small terrace in front of the kitchen catches the evening sun",
    "The bathroom has both a bathtub and a separate walk-in shower",
    "The building has its own solar panels on the roof",
    "The apartment is available from the first of next month",
    "Furniture can be taken over by arrangement",
    "The high ceilings of 3.10 m give the rooms a generous feel",
    "A concierge service is available on weekdays",
    "The lake is only a short bike ride away",
    "Please note that the photos show a similar apartment in the same building",
};

}  // namespace

std::span<const City> Cities() { return kCities; }
std::span<const std::string_view> StreetNames() { return kStreetNames; }
std::span<const std::string_view> FirstNames() { return kFirstNames; }
std::span<const std::string_view> LastNames() { return kLastNames; }
std::span<const std::string_view> Agencies() { return kAgencies; }
std::span<const std::string_view> Features() { return kFeatures; }
std::span<const std::string_view> PropertyTypes() { return kPropertyTypes; }
std::span<const std::string_view> TitleAdjectives() { return kTitleAdjectives; }
std::span<const std::string_view> TitleHooks() { return kTitleHooks; }
std::span<const std::string_view> DescriptionSentences() { return kDescriptionSentences; }

}  // namespace syncmgr::gen
