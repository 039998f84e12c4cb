"""Labels of the charts, one translation table per language: :data:`FR` (the default) and :data:`EN`.

Each table has the same sections:

==================  ===========================================================================================
``organismes``      display names of the organismes and aggregates (:func:`org_label`)
``unites``          display forms of the ``units`` attributes of the results (:func:`unit_label`)
``variables``       short names of output variables, for chart titles and legends (:func:`variable_label`);
                    a variable not listed is named by its Dataset ``long_name_fr`` (French) or ``long_name``
                    (English): a label identical to the Dataset's is not copied here
``graphiques``      every other text of the charts of a run (:mod:`model.outputs.graphiques`)
``ponts``           short labels of the cumulated bridges (:mod:`model.outputs.ponts`)
``sensibilite``     the charts of a sensitivity analysis (:mod:`model.outputs.graphiques_sensibilite`)
``ajustement``      the fit charts: published figures against the run (:mod:`model.outputs.graphiques_ajustement`)
``cibles``          the probabilities of meeting the COG targets (summary, note, workbook); the names of the
                    targets themselves are those of their registry (:func:`cible_label`)
==================  ===========================================================================================

Texts with ``{fields}`` are :meth:`str.format` templates. French typography: a narrow no-break space
before ``:`` is added where the text is laid out (source notes), « » for quotes.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Mapping

from model.params.errors import INDICE
from model.results.cibles import PAR_CODE
from model.results.dataset import REGISTRE

Lang = Literal["fr", "en"]
LANGS: tuple[str, ...] = ("fr", "en")

# acronyms are not translated
SIGLES = {"cnam": "CNAM", "cnaf": "CNAF", "cnav": "CNAV", "acoss": "ACOSS", "msa": "MSA", "rsi": "ex-RSI"}

FR: dict[str, dict[str, str]] = {
    "organismes": {**SIGLES, "regime_general": "Régime général", "total": "Ensemble"},
    "unites": {"MEUR/an": "M€/an", "MEUR": "M€", "ETPMA": "ETPMA", "personnes/an": "personnes/an",
               "personnes": "personnes",
               "ETP/an": "ETP/an", "1": "", "%": "%", "EUR/ETPMA/an": "€/ETPMA/an", "ETPMA_eq": "ETPMA-éq.",
               "jours": "jours", "min": "min", "appels/an": "appels/an", "annees": "années"},
    "variables": {
        # adf_hors_informatique, taux_appels_aboutis: the Dataset's long_name_fr
        "etpma": "ETPMA", "masse_salariale": "Masse salariale", "depenses_limitatives": "Dépenses limitatives",
        "depenses_personnel": "Dépenses de personnel", "adf": "ADF", "saturation": "Saturation du plafond",
        "departs_retraite": "Départs en retraite", "departs_autres": "Autres départs (y c. fins de CDD)",
        "recrutements": "Recrutements (CDI et CDD)",
        "effet_effectif": "Effet effectif", "effet_mesures_generales": "Mesures générales",
        "effet_gvt": "GVT positif", "effet_noria": "Effet de noria et de structure",
        "effet_report": "Effet report",
        "adf_immobilier": "Immobilier", "adf_editique": "Éditique et affranchissement", "adf_achats": "Achats",
        "adf_autres": "Autres postes", "adf_informatique_fonctionnement": "Informatique de fonctionnement",
        "cible_adf": "Cible COG (ADF hors informatique)",
        "productivite": "Productivité simulée", "cible_productivite": "Cible COG",
        "delai_traitement": "Délai moyen de traitement",
        "effectif_31dec": "Effectif au 31 décembre", "plafond_emplois": "Plafond d'emplois",
        "recrutements_cdi": "Recrutements en CDI",
        "attente_moyenne": "Attente moyenne au téléphone",
    },
    "graphiques": {
        "source": ("Source : cogsim {version}, run «\u202f{run_id}\u202f» ({mode}{commit}) "
                   "— scénario «\u202f{title}\u202f»"),
        "stochastic": "{n} réplications, graine {seed}", "deterministic": "déterministe",
        "commit": ", commit {commit}", "source_runs": "Source : cogsim {version}, runs {runs}",
        "mean": "Moyenne des réplications", "det": "Trajectoire simulée",
        "fan": "Bande à 90\u202f% (5ᵉ–95ᵉ centiles)", "plafond": "Plafond d'emplois (COG)",
        "t_trajectoire": "ETPMA simulés et plafonds d'emplois de la COG",
        "t_pont_etpma": "Pont d'ETPMA — {perimetre}",
        "t_pont_ms": "Pont de masse salariale — {perimetre}",
        "t_adf": "Autres dépenses de fonctionnement (ADF) par poste et cible COG",
        "t_productivite": "Productivité et cible de la COG",
        "t_saturation": "Saturation du plafond d'emplois (ETPMA / plafond)",
        "t_comparaison": "Comparaison de scénarios — {perimetre}",
        "t_service": "Qualité de service : taux d'appels aboutis et délai de traitement",
        "by_year": "Contributions annuelles ({unit})", "cumul": "Cumul {a}–{b} ({unit})",
        "net_etpma": "Variation de l'ETPMA", "net_ms": "Variation de la masse salariale",
        "net": "Variation nette", "transferts": "Transferts (solde)", "calendrier": "Effet calendrier et quotité",
        "mutualisation": "Recrutements évités par les mutualisations (pour mémoire, déjà déduits)",
        "no_target": "pas de cible COG", "ij": "CNAM (IJ)", "fse": "CNAM (FSE)",
        "ceiling_100": "Plafond d'emplois (100\u202f%)",
        "levels": "{v} :\n{a} en {ya} → {b} en {yb}",
        "fan_net": "Bande à 90\u202f% de la variation",
        "p_delai": "Délai moyen de traitement",
        "cible_85": "Cible COG ({v})",
        "jours": "jours", "cible_jours": "cible {v} jours", "cible_delai": "Délai cible de la COG",
        "indice_base": "indice, base 100 en {y}",
        "plafond_partiel": "Plafond défini à partir de {y} : avant, {org} sans plafond",
    },
    "ponts": {
        "departs_retraite": "Retraites", "departs_autres": "Autres départs", "recrutements": "Recrutements",
        "transferts": "Transferts", "calendrier": "Calendrier, quotité", "effet_effectif": "Effectif",
        "effet_mesures_generales": "Mesures générales", "effet_gvt": "GVT positif",
        "effet_noria": "Noria", "effet_report": "Report", "net": "Variation nette",
    },
    "sensibilite": {
        "oat": "un facteur à la fois", "morris": "Morris", "sobol": "Sobol'",
        "src_oat": "«\u202fun facteur à la fois\u202f»", "src_morris": "de Morris", "src_sobol": "de Sobol'",
        "source": "Source : cogsim {version}, analyse de sensibilité {method} ({design}{seed}{commit}){scenario}",
        "design_oat": "{p} évaluations", "design_morris": "{n} trajectoires, {p} évaluations",
        "design_sobol": "N = {n}, {p} évaluations, IC à {conf}",
        "seed": ", graine {seed}", "scenario": " — scénario «\u202f{s}\u202f»",
        "t_tornado": "Sensibilité (un facteur à la fois) : {output}{cell}",
        "t_sobol": "Indices de Sobol' : {output}{cell}",
        "t_morris": "Criblage de Morris : {output}{cell}",
        "t_par_annee": "Sensibilité par année ({what}) : {output}{cell}",
        "low": "Facteur à sa valeur basse", "high": "Facteur à sa valeur haute",
        "x_tornado": "{output} ; valeur du scénario : {base}", "no_effect": "sans effet",
        "range": "de {low} à {high}, scénario {base}",
        "S1": "Indice de premier ordre S1", "ST": "Indice total ST",
        "ci": "Intervalle de confiance à {conf}", "x_sobol": "Part de la variance du résultat",
        "x_morris": "μ*, effet absolu moyen pour toute l'étendue du facteur{units}",
        "y_morris": "σ, dispersion des effets{units}",
        "diag": "σ = μ* (effet non linéaire ou en interaction)",
        "what_ST": "indice total ST", "what_mu_star": "μ*", "what_swing": "écart haut − bas, en valeur absolue",
        "what_S1": "indice S1", "what_sigma": "σ",
        "constant": "Résultat constant : indices non définis",
        "constant_zero": "Résultat constant : effet nul",
        "band": "Bande : intervalle de confiance à {conf}",
        "none": "Aucun facteur ne fait varier ce résultat",
    },
    "ajustement": {
        "t_etpma": "Ajustement — ETPMA par organisme, plafonds et cibles de la COG",
        "t_effectifs": "Ajustement — effectifs (personnes)",
        "t_recrutements_cdi": "Ajustement — recrutements en CDI (personnes par an)",
        "t_departs_retraite": "Ajustement — départs en retraite (personnes par an)",
        "t_masse_salariale": "Ajustement — masse salariale et dépenses de personnel (M€/an)",
        "l_ajustement_etpma": "ETPMA", "l_ajustement_effectifs": "Effectifs",
        "l_ajustement_recrutements_cdi": "Recrutements en CDI", "l_ajustement_departs_retraite": "Départs en retraite",
        "l_ajustement_masse_salariale": "Masse salariale et dépenses de personnel",
        "i_etpma": "ETPMA", "i_effectif_31dec": "Effectif au 31 décembre", "i_effectif_moyen": "Effectif moyen annuel",
        "i_recrutements_cdi": "Recrutements en CDI", "i_departs_retraite": "Départs en retraite",
        "i_masse_salariale": "Masse salariale", "i_depenses_personnel": "Dépenses de personnel",
        "i_charges_personnel": "Charges de personnel",
        "n_charges_personnel": ("Charges de personnel : dépenses de personnel hors taxe sur les salaires et "
                                "versement mobilité (au sens des comptes et des chiffres publiés)."),
        "n_effectif_moyen": "Effectif moyen annuel simulé : ETPMA × personnes par ETP au 31 décembre.",
        "n_depenses_personnel": ("Masse salariale : rémunérations brutes hors charges patronales ; dépenses de "
                                 "personnel : masse salariale, charges, formation et autres."),
        "source_obs": "Observations : {dossier}/*.csv ({n} lignes, empreinte SHA-256 {empreinte})",
        "cible_etpma": "Cible d'ETPMA (COG)", "enveloppe": "Enveloppe de masse salariale (COG)",
        "projection": "Projection (après la fenêtre de calibrage {a}–{b})",
        "q_official": "Donnée officielle", "q_secondary": "Donnée secondaire", "q_derived": "Donnée dérivée",
        "estimated": "Marqueur creux : donnée estimée (reconstruite)",
        "validation": "En orange : donnée de validation (non ajustée)",
        "two_sigma": "± 2σ (incertitude de la donnée)",
        "change": "Variation publiée, portée depuis le niveau simulé de l'année de base",
        "cumul": "Cumul publié, en moyenne annuelle sur sa période",
    },
    "comparaison": {
        "reference": "Référence", "variante": "Variante", "variante_n": "Variante {n}", "colon": "\u202f: ",
        "t_trajectoires": "Scénarios comparés — {perimetre}",
        "t_ecarts": "Écarts variante − référence — {perimetre}",
        "t_ponts": "Ponts d'ETPMA et de masse salariale en écart — {perimetre} (« {var} » − « {ref} »)",
        "t_cibles": "Probabilité de respecter les cibles de la COG en {z} — {perimetre}",
        "ecart_de": "Variante − référence [{ref}] : {v}", "bande_ecart": "Bande à 90\u202f% de l'écart (mêmes tirages aléatoires)",
        "p_pont_etpma": "Pont d'ETPMA : écart par composante", "p_pont_ms": "Pont de masse salariale : écart par effet",
        "net": "Écart de la variation nette", "u_etpma_an": "ETPMA (écart par an)", "u_meur": "M€ (écart par an)",
        "u_points": "points de %", "u_relatif": "écart relatif (%)", "u_proba": "probabilité de respecter la cible",
        "no_targets": "aucune cible de la COG pour ce périmètre", "proba": "Probabilité de respecter la cible",
        # the note and the workbook of a comparison
        "n_title": "Comparaison de scénarios — {perimetre}",
        "n_header": "Comparaison de scénarios — {perimetre} — « {var} » par rapport à « {ref} »",
        "n_footer": "cogsim — comparaison de scénarios — page {i}/{n}",
        "l_runs": "Scénarios comparés", "l_lecture_generale": "Convention de lecture",
        "l_parametres": "Ce qui distingue les scénarios", "l_organismes": "Tous les organismes et les totaux publiés",
        "l_charts": "Graphiques", "l_reading": "Lecture",
        "run_line": "Run « {run_id} » — fichier {file} — {mode}",
        "m_stoch": "{n} réplications, graine {seed}", "m_det": "déterministe",
        "n_convention": ("Tous les écarts se lisent « variante − référence » : un écart négatif signifie que la "
                         "variante est en dessous de la référence. La référence est le run « {ref} »."),
        "n_paired": ("Les runs partagent leur graine et leurs réplications : chaque réplication de la variante voit "
                     "les mêmes tirages aléatoires que celle de la référence, et la bande à 90 % de l'écart est "
                     "calculée réplication par réplication."),
        "n_unpaired": ("Les runs n'ont pas la même graine ou le même nombre de réplications : les écarts sont ceux "
                       "des moyennes, sans bande."),
        "n_years": "Années comparées : {a}–{z} (celles que les runs ont en commun).",
        "n_more": "… et {n} autres paramètres (liste complète dans le classeur, feuille « Paramètres »).",
        "n_provenance": "Produit par cogsim {version} (commit {commit}) à partir des runs enregistrés, sans les relancer.",
        "h_parametre": "Paramètre", "s_perimetre": "{perimetre}",
        "c_synthese": "Principaux écarts — {perimetre} (« {var} » − « {ref} »)",
        "h_indicateur": "Indicateur", "h_unite": "Unité", "h_ref": "Référence {z}", "h_var": "Variante {z}",
        "h_ecart": "Écart {z}", "h_bande": "Bande à 90 % de l'écart", "h_cumul": "Écart cumulé {a}–{z}",
        "h_organisme": "Organisme", "u_pt": "points", "c_organismes": "Écarts en {z}, variante − référence",
        "h_cible": "Cible de la COG", "h_ecart_proba": "Écart", "c_cibles": "Probabilité de respecter chaque cible en {z}",
        "r_identique": "Pour {perimetre}, la variante ne diffère pas de la référence.",
        "r_etpma": ("{perimetre} : les runs divergent à partir de {y} ; en {z}, {var} ETPMA dans la variante contre "
                    "{ref} dans la référence ({d})."),
        "r_recrutements": "Recrutements cumulés sur {a}–{z} : {d} personnes par rapport à la référence.",
        "r_ms": "Masse salariale : {d} M€ en {z}, {cumul} M€ cumulés sur la période.",
        "r_part": "{v} {d} M€", "r_budget": "En {z} : {parts}.",
        "r_delai": "délai moyen de traitement {var} jours contre {ref}",
        "r_appels": "taux d'appels aboutis {var} contre {ref}",
        "r_service": "Qualité de service en {z} : {bits}.",
        "r_cibles": "Probabilité de respecter les cibles en {z} (référence → variante) : {items}.",
        "r_cibles_stables": "Les probabilités de respecter les cibles de {z} ne changent pas.",
        "s_readme": "Lisez-moi", "s_synthese": "Synthèse", "s_ecarts": "Écarts", "s_cibles": "Cibles COG",
        "s_parametres": "Paramètres", "k_titre": "Titre", "k_reference": "Référence", "k_variante": "Variante",
        "k_annees": "Années", "k_perimetre": "Périmètre", "k_lecture": "Lecture", "k_feuilles": "Feuilles",
        "readme_feuilles": ("Synthèse : principaux écarts par périmètre ; Écarts : tous les indicateurs, organismes "
                            "et années (le même tableau que ecarts.csv) ; Cibles COG : probabilité de respecter "
                            "chaque cible, run par run ; Paramètres : les paramètres qui diffèrent."),
        "c_indicateur": "Code", "c_libelle": "Indicateur", "c_unite": "Unité", "c_organisme": "Organisme",
        "c_annee": "Année", "c_reference": "Run de référence", "c_variante": "Run variante",
        "c_valeur_reference": "Référence", "c_valeur_variante": "Variante", "c_ecart": "Écart",
        "c_ecart_relatif": "Écart relatif", "c_ecart_p05": "Écart, 5ᵉ centile", "c_ecart_p95": "Écart, 95ᵉ centile",
    },
    "cibles": {
        "chances": "{p} de chances", "atteinte": "atteinte", "manquee": "manquée",
        "oui": "oui", "non": "non", "moins_de": "< {p}", "plus_de": "> {p}",
        "etpma": "{org}, {delta} ETPMA en {z} par rapport à {a} (cible {cible})",
        "ecart": "écart attendu {e}", "ecart_un": "écart {e}", "deterministe": "run déterministe : cible atteinte ou manquée, pas une probabilité",
        "une_replication": "une seule réplication : cible atteinte ou manquée, pas une probabilité",
        "sens_<=": "au plus", "sens_>=": "au moins",
    },
    "balayage": {
        "c_annee": "Année", "c_organisme": "Organisme", "c_code": "Code", "c_variable": "Variable",
        "c_unite": "Unité", "c_moyenne": "Moyenne", "c_p05": "5ᵉ centile", "c_p50": "Médiane",
        "c_p95": "95ᵉ centile", "c_ecart_type": "Écart-type",
        "tous": "tous les organismes", "depuis": "{titre}, à partir de {annee}",
        "plan": "tableaux du balayage : {text}",
        "plan_table": "{table} : {k} variable(s) sur {n}, {rows} lignes (plafond {cap})",
        "plan_aucune": "{table} non écrit (une variable dépasse le plafond de {cap} lignes ; le magasin Zarr garde tout)",
        "plan_derniere": " ; le classeur ne garde que la dernière année",
        "lisez_moi": "Lisez-moi", "titre": "Titre", "scenario": "Scénario", "replications": "Réplications",
        "graine": "Graine", "axe": "Axe balayé", "statistiques": "Statistiques",
        "statistiques_texte": ("moyenne, 5ᵉ centile, médiane, 95ᵉ centile et écart-type sur les réplications de "
                               "chaque point (nombres aléatoires communs : la réplication r tire les mêmes aléas "
                               "en chaque point)"),
        "contenu": "Contenu",
        "contenu_texte": ("{k} variable(s) sur {n}, une feuille chacune ({kept}) ; une ligne par point × année × "
                          "organisme ; plafond de {cap} lignes ; balayage.csv et le magasin Zarr en gardent plus"),
        "source": "Source", "source_texte": "cogsim {version}, commit {commit}",
        "mode_stochastic": "{n} réplication(s) stochastique(s) par point",
        "mode_deterministic": "déterministe (espérances, une réplication par point)",
        "t_carte": "{variable} — {org}, {annee}",
        "moyenne": "Moyenne des réplications", "bande": "Bande à 90 % (5ᵉ–95ᵉ centiles)",
        "cible": "{cible} ({v})", "de_a": "de {a} à {b} {u} selon le point", "panneaux": "Un panneau par valeur de : {axes}",
        "contour": "Ligne où la moyenne égale la cible",
        "partout": "respect en tout point de la grille", "nulle_part": "manquement en tout point de la grille",
        "en_partie": "respect en {k} points sur {n}",
        "source_note": ("Source : cogsim {version}, balayage « {titre} » ({points} points, {mode}{commit})"
                        " — scénario « {scenario} »"),
        "n_rep": "{n} réplications par point, graine {seed}", "det": "déterministe", "commit": ", commit {commit}",
        "panneaux_omis": "{k} panneaux sur {n} (valeurs extrêmes et médiane des autres axes)",
        "ecrit": "Tableaux et graphiques du balayage écrits dans",
        "devis": "taille : ",
        "zarr": "{store} : {axes} ; {r} réplication(s) par point, {v} variables × année × organisme × {stats}",
        "graphiques_listes": "{n} graphiques (.png, .svg, .pdf) :",
    },
    # the messages of bad input (check, run, ...): English as the library writes them -> French, applied in
    # this order to the message, the "allowed" text and the file of a problem (:func:`traduire`); a text
    # with no pattern here stays as written
    "messages": {
        r"sheet '([^']*)', cell ([A-Z]+[0-9]+)": r"feuille « \1 », cellule \2",
        r"^command line$": "ligne de commande",
        r"^arguments$": "arguments",
        r"^unknown key( '[^']*')?": r"clé inconnue\1", r"^unknown organisme( '[^']*')?": r"organisme inconnu\1",
        r"^unknown variable( '[^']*')?": r"variable inconnue\1", r"^unknown field( '[^']*')?": r"champ inconnu\1",
        re.escape(INDICE).replace(re.escape("{close}"), "([^']*)") + "$": r" ; vouliez-vous dire « \1 » ?",
        r"^file not found$": "fichier introuvable",
        r"^file not found \((.*)\)$": r"fichier introuvable (\1)",
        r"^baseline file not found$": "fichier de base introuvable",
        r"^circular baseline \((.*)\)$": r"chaîne de bases circulaire (\1)",
        r"^missing header table \[scenario\]$": "table d'en-tête [scenario] manquante",
        r"^missing title$": "titre manquant", r"^empty title$": "titre vide",
        r"^wrong type$": "type incorrect", r"^not a number$": "pas un nombre",
        r"^out of range$": "hors de la plage autorisée", r"^outside the usual range$": "hors de la plage habituelle",
        r"^bad year$": "année invalide", r"^missing field$": "champ manquant",
        r"^year outside the horizon (\d+-\d+)$": r"année hors de l'horizon \1",
        r"^outside the horizon (\d+-\d+)$": r"hors de l'horizon \1",
        r"^out of range \(the horizon is (\d+-\d+)\)$": r"hors de la plage autorisée (l'horizon est \1)",
        r"^bad year (\d+): outside the horizon (\d+-\d+)$": r"année invalide \1 : hors de l'horizon \2",
        r"^bad year '([^']*)': outside the horizon (\d+-\d+)$": r"année invalide « \1 » : hors de l'horizon \2",
        r"^not a simulated year \(the horizon is (\d+-\d+)\)$": r"année non simulée (l'horizon est \1)",
        r"^duplicate key$": "clé en double", r"^duplicate key \(line (\d+)\)$": r"clé en double (ligne \1)",
        r"^empty table$": "table vide", r"^not an allowed value$": "valeur non autorisée",
        r"^key out of range$": "clé hors de la plage", r"^key is not a number$": "la clé n'est pas un nombre",
        r"^year (\d+) given twice \(keys '([^']*)' and '([^']*)'\)$": r"année \1 donnée deux fois (clés « \2 » et « \3 »)",
        r"^ends before it starts$": "se termine avant de commencer",
        r"^not the first day of a month \(the clock is monthly\)$":
            "pas le premier jour d'un mois (l'horloge est mensuelle)",
        r"^violates a cross-parameter bound$": "enfreint une borne liée à un autre paramètre",
        r"^shares sum to (.*)$": r"les parts ont pour somme \1",
        r"^the ex-RSI has no staff after the bulk transfer$": "l'ex-RSI n'a plus d'effectifs après le transfert principal",
        r"^invalid TOML at line (\d+): (.*)$": r"TOML invalide à la ligne \1 (\2)",
        r"^not a readable XLSX workbook \((.*)\)$": r"pas un classeur XLSX lisible (\1)",
        r"^not a regular file \(a directory\)$": "pas un fichier ordinaire (un dossier)",
        r"^not a regular file \((.*)\)$": r"pas un fichier ordinaire (\1)",
        r"^file larger than (.*)$": r"fichier de plus de \1",
        r"^not UTF-8 text \(byte (\d+)\)$": r"pas un texte UTF-8 (octet \1)",
        r"^exists already; cogsim does not replace a file it did not just write$":
            "existe déjà ; cogsim ne remplace pas un fichier qu'il n'a pas écrit",
        r"^not a workbook name$": "pas un nom de classeur",
        r"^a row cogsim template did not write \((.*)\)$": r"une ligne que cogsim template n'a pas écrite (\1)",
        r"^not a table \((.*)\)$": r"pas une table (\1)",
        r"^changes the calibrated (\d+)-(\d+) history: this parameter is behaviour or past policy the calibration "
        r"fitted or used$": r"change l'histoire calibrée \1-\2 : ce paramètre est un comportement ou une politique "
                            r"passée que le calibrage a ajusté ou utilisé",
        r"^policy changes after (\d+); change the calibration data to change the history$":
            r"des changements de politique après \1 ; changer les données du calibrage pour changer l'histoire",
        # the "allowed" texts
        r"\(or a table \{year = value\}\)": "(ou une table {année = valeur})",
        r"or a table \{year = value\} for years (\d+)-(\d+)": r"ou une table {année = valeur} pour les années \1-\2",
        r"^an integer\b": "un entier", r"^a number\b": "un nombre", r"^a string$": "une chaîne de caractères",
        r"^a non-empty string$": "une chaîne non vide", r"^true or false$": "true ou false",
        r"^a date YYYY-MM-01 from (\S+) to (\S+)$": r"une date AAAA-MM-01 de \1 à \2",
        r"^a date YYYY-MM-01\b": "une date AAAA-MM-01",
        r"^a date after debut = (.*)$": r"une date après debut = \1",
        r"^a date before (.*)$": r"une date avant \1",
        r"^a year from (\d+) to (\d+)$": r"une année de \1 à \2",
        r"^each key once$": "chaque clé une fois", r"^each year once$": "chaque année une fois",
        r"^at least one year$": "au moins une année",
        r"^a chain of baselines without a loop$": "une chaîne de bases sans boucle",
        r"^an existing file relative to (.*)$": r"un fichier existant, relatif à \1",
        r"^an existing TOML file$": "un fichier TOML existant", r"^an existing (\S+) file$": r"un fichier \1 existant",
        r"^an existing XLSX workbook$": "un classeur XLSX existant", r"^a regular (.*)$": r"un \1 ordinaire",
        r"^a readable (.*)$": r"un \1 lisible", r"^a UTF-8 (.*)$": r"un \1 en UTF-8",
        r"^cannot read the file \((.*)\)$": r"fichier illisible (\1)",
        r"^a CSV file, relative to the scenario file that names it$":
            "un fichier CSV, relatif au fichier de scénario qui le nomme",
        r"^a \[scenario\] table with a title$": "une table [scenario] avec un titre",
        r"^a table \[scenario\] with a title$": "une table [scenario] avec un titre",
        r"^a table of parameters$": "une table de paramètres", r"^a table of organismes$": "une table d'organismes",
        r"^a non-empty table \{key = number\}$": "une table non vide {clé = nombre}",
        r"^a table \{key = number\}": "une table {clé = nombre}",
        r"^shares summing to 1$": "des parts de somme 1",
        r"^a table of shares summing to 1": "une table de parts de somme 1",
        r"^an array of tables": "un tableau de tables",
        r"^numbers in (.*)$": r"des nombres dans \1",
        r"^one of ": "l'une des valeurs ",
        r" keys ": " clés ",
        r"\bin \[": "dans [",
        r"^TOML syntax \(https://toml\.io\)$": "la syntaxe TOML (https://toml.io)",
        r"^a path where nothing exists yet$": "un chemin où rien n'existe encore",
        r"^a file name ending in \.xlsx$": "un nom de fichier terminé par .xlsx",
        r"^a workbook written by cogsim template(.*)$": r"un classeur écrit par cogsim template\1",
        r"^the rows of the template \(change values, not paths\)$":
            "les lignes du modèle (changer les valeurs, pas les chemins)",
        r"^(.*), written \{\"key\" = number, \.\.\.\}$": r"\1, écrite {\"clé\" = nombre, ...}",
        r"^(une? [^:]*): ": r"\1 : ",
        # notices: the size of a sweep, runs in blocks, precision
        r"^(\S+) points x (\S+) replicates = (\S+) batch elements, about (.+?) on one core; results store (\S+ \S+) "
        r"\((\d+) variables x (\d+) years x (\d+) organismes x (\d+) statistics per point\)$":
            r"\1 points × \2 réplications = \3 éléments de lot, environ \4 sur un cœur ; magasin de résultats \5 "
            r"(\6 variables × \7 années × \8 organismes × \9 statistiques par point)",
        r"^(\S+) points x (\S+) replicates = (\S+) batch elements, about (.+?) on (\d+) workers; results store "
        r"(\S+ \S+) \((\d+) variables x (\d+) years x (\d+) organismes x (\d+) statistics per point\)$":
            r"\1 points × \2 réplications = \3 éléments de lot, environ \4 sur \5 processus ; magasin de résultats "
            r"\6 (\7 variables × \8 années × \9 organismes × \10 statistiques par point)",
        r"^(\d+) replicates, simulated in blocks of (\d+): results\.nc keeps the first (\d+), results\.csv has exact "
        r"statistics over all \d+; at most (.*) of temporary disk in (.*) \((.*) free\), deleted at the end; memory "
        r"that of one block \(about (.*)\)$":
            r"\1 réplications, simulées par blocs de \2 : results.nc garde les \3 premières, results.csv des "
            r"statistiques exactes sur toutes ; au plus \4 de disque temporaire dans \5 (\6 libres), effacé à la "
            r"fin ; la mémoire d'un bloc (environ \7)",
        r"^precision: (\d+) pilot replicates(.*) -> (\d+) replicates": r"précision : \1 réplications pilotes\2 -> \3 "
                                                                         r"réplications",
        r" at (\d+) corner point\(s\)": r" en \1 point(s) des coins de la grille",
        r" \(capped at (\d+); (\d+) would be needed\)": r" (plafonné à \1 ; il en faudrait \2)",
        r"\bTOML file\b": "fichier TOML", r"\bXLSX workbook\b": "classeur XLSX", r"\bCSV file\b": "fichier CSV",
    },
}

EN: dict[str, dict[str, str]] = {
    "organismes": {**SIGLES, "regime_general": "Régime général", "total": "All organismes"},
    "unites": {"MEUR/an": "€m/yr", "MEUR": "€m", "ETPMA": "ETPMA", "personnes/an": "persons/yr",
               "personnes": "persons",
               "ETP/an": "FTE/yr", "1": "", "%": "%", "EUR/ETPMA/an": "€/ETPMA/yr", "ETPMA_eq": "ETPMA-eq.",
               "jours": "days", "min": "min", "appels/an": "calls/yr", "annees": "years"},
    "variables": {
        "etpma": "ETPMA", "masse_salariale": "Wage bill", "depenses_limitatives": "Capped management budget",
        "depenses_personnel": "Personnel expenses", "adf": "ADF", "adf_hors_informatique": "ADF excl. IT",
        "saturation": "Saturation of the ceiling", "taux_appels_aboutis": "Share of calls answered",
        "departs_retraite": "Retirements", "departs_autres": "Other exits (incl. CDD endings)",
        "recrutements": "Hires (CDI and CDD)",
        "effet_effectif": "Staffing effect", "effet_mesures_generales": "General measures",
        "effet_gvt": "GVT positif (drift)", "effet_noria": "Noria and structure effect",
        "effet_report": "Carry-over effect",
        "adf_immobilier": "Real estate", "adf_editique": "Printing and postage", "adf_achats": "Purchases",
        "adf_autres": "Other items", "adf_informatique_fonctionnement": "IT running costs",
        "cible_adf": "COG target (ADF excl. IT)",
        "productivite": "Simulated productivity", "cible_productivite": "COG target",
        "delai_traitement": "Mean processing delay", "attente_moyenne": "Mean waiting time on the phone",
        "effectif_31dec": "Headcount at 31 December", "plafond_emplois": "Ceiling (plafond d'emplois)",
        "recrutements_cdi": "CDI hires",
    },
    "graphiques": {
        "source": "Source: cogsim {version}, run \u201c{run_id}\u201d ({mode}{commit}) — scenario \u201c{title}\u201d",
        "stochastic": "{n} replicates, seed {seed}", "deterministic": "deterministic",
        "commit": ", commit {commit}", "source_runs": "Source: cogsim {version}, runs {runs}",
        "mean": "Mean of the replicates", "det": "Simulated path",
        "fan": "90 % band (5th–95th centiles)", "plafond": "Ceiling (plafond d'emplois, COG)",
        "t_trajectoire": "Simulated ETPMA and COG ceilings",
        "t_pont_etpma": "ETPMA bridge — {perimetre}",
        "t_pont_ms": "Wage-bill bridge — {perimetre}",
        "t_adf": "Other operating expenditure (ADF) by item and COG target",
        "t_productivite": "Productivity and COG target",
        "t_saturation": "Saturation of the ceiling (ETPMA / plafond d'emplois)",
        "t_comparaison": "Scenario comparison — {perimetre}",
        "t_service": "Service quality: share of calls answered and processing delay",
        "by_year": "Yearly contributions ({unit})", "cumul": "Cumulated {a}–{b} ({unit})",
        "net_etpma": "Change of ETPMA", "net_ms": "Change of the wage bill",
        "net": "Net change", "transferts": "Transfers (net)", "calendrier": "Calendar and quotité effect",
        "mutualisation": "Hires forgone through mutualisations (for memory, already deducted)",
        "no_target": "no COG target", "ij": "CNAM (IJ)", "fse": "CNAM (FSE)",
        "ceiling_100": "Ceiling (100 %)",
        "levels": "{v}:\n{a} in {ya} → {b} in {yb}",
        "fan_net": "90 % band of the change",
        "p_delai": "Mean processing delay",
        "cible_85": "COG target ({v})",
        "jours": "days", "cible_jours": "target {v} days", "cible_delai": "COG delay target",
        "indice_base": "index, base 100 in {y}",
        "plafond_partiel": "Ceiling defined from {y}: before, {org} without a ceiling",
    },
    "ponts": {
        "departs_retraite": "Retirements", "departs_autres": "Other exits", "recrutements": "Hires",
        "transferts": "Transfers", "calendrier": "Calendar, quotité", "effet_effectif": "Staffing",
        "effet_mesures_generales": "General measures", "effet_gvt": "GVT positif",
        "effet_noria": "Noria", "effet_report": "Carry-over", "net": "Net change",
    },
    "sensibilite": {
        "oat": "one at a time", "morris": "Morris", "sobol": "Sobol'",
        "src_oat": "one at a time", "src_morris": "Morris", "src_sobol": "Sobol'",
        "source": "Source: cogsim {version}, sensitivity analysis, {method} ({design}{seed}{commit}){scenario}",
        "design_oat": "{p} evaluations", "design_morris": "{n} trajectories, {p} evaluations",
        "design_sobol": "N = {n}, {p} evaluations, {conf} CI",
        "seed": ", seed {seed}", "scenario": " — scenario \u201c{s}\u201d",
        "t_tornado": "One-at-a-time sensitivity: {output}{cell}",
        "t_sobol": "Sobol' indices: {output}{cell}",
        "t_morris": "Morris screening: {output}{cell}",
        "t_par_annee": "Sensitivity by year ({what}): {output}{cell}",
        "low": "Factor at its low value", "high": "Factor at its high value",
        "x_tornado": "{output}; scenario value: {base}", "no_effect": "no effect",
        "range": "{low} to {high}, scenario {base}",
        "S1": "First-order index S1", "ST": "Total-order index ST",
        "ci": "{conf} confidence interval", "x_sobol": "Share of the output variance",
        "x_morris": "μ*, mean absolute effect over the factor's full range{units}",
        "y_morris": "σ, spread of the effects{units}",
        "diag": "σ = μ* (nonlinear or interacting effect)",
        "what_ST": "total-order index ST", "what_mu_star": "μ*", "what_swing": "absolute high − low swing",
        "what_S1": "index S1", "what_sigma": "σ",
        "constant": "Output constant: indices undefined",
        "constant_zero": "Output constant: no effect",
        "band": "Band: {conf} confidence interval",
        "none": "No factor moves this output",
    },
    "ajustement": {
        "t_etpma": "Fit — ETPMA by organisme, COG ceilings and targets",
        "t_effectifs": "Fit — headcount (persons)",
        "t_recrutements_cdi": "Fit — CDI hires (persons per year)",
        "t_departs_retraite": "Fit — retirements (persons per year)",
        "t_masse_salariale": "Fit — wage bill and personnel expenses (€m/yr)",
        "l_ajustement_etpma": "ETPMA", "l_ajustement_effectifs": "Headcount",
        "l_ajustement_recrutements_cdi": "CDI hires", "l_ajustement_departs_retraite": "Retirements",
        "l_ajustement_masse_salariale": "Wage bill and personnel expenses",
        "i_etpma": "ETPMA", "i_effectif_31dec": "Headcount at 31 December", "i_effectif_moyen": "Annual mean headcount",
        "i_recrutements_cdi": "CDI hires", "i_departs_retraite": "Retirements",
        "i_masse_salariale": "Wage bill", "i_depenses_personnel": "Personnel expenses",
        "i_charges_personnel": "Personnel costs",
        "n_charges_personnel": ("Personnel costs: personnel expenses less the payroll tax and the transport levy "
                                "(as the accounts and the published figures count them)."),
        "n_effectif_moyen": "Simulated annual mean headcount: ETPMA × persons per FTE at 31 December.",
        "n_depenses_personnel": ("Wage bill: gross pay, employer charges excluded; personnel expenses: wage bill, "
                                 "charges, training and other."),
        "source_obs": "Observations: {dossier}/*.csv ({n} rows, SHA-256 {empreinte})",
        "cible_etpma": "ETPMA target (COG)", "enveloppe": "Wage-bill envelope (COG)",
        "projection": "Projection (after the calibration window {a}–{b})",
        "q_official": "Official figure", "q_secondary": "Secondary figure", "q_derived": "Derived figure",
        "estimated": "Hollow marker: estimated (reconstructed) figure",
        "validation": "In orange: validation figure (not fitted)",
        "two_sigma": "± 2σ (uncertainty of the figure)",
        "change": "Published change, applied to the simulated level of its base year",
        "cumul": "Published cumul, as a yearly mean over its period",
    },
    "comparaison": {
        "reference": "Reference", "variante": "Variant", "variante_n": "Variant {n}", "colon": ": ",
        "t_trajectoires": "Scenarios compared — {perimetre}",
        "t_ecarts": "Differences variant − reference — {perimetre}",
        "t_ponts": "ETPMA and wage-bill bridges as differences — {perimetre} (\u201c{var}\u201d − \u201c{ref}\u201d)",
        "t_cibles": "Probability of meeting the COG targets in {z} — {perimetre}",
        "ecart_de": "Variant − reference [{ref}]: {v}", "bande_ecart": "90 % band of the difference (same random draws)",
        "p_pont_etpma": "ETPMA bridge: difference by component", "p_pont_ms": "Wage-bill bridge: difference by effect",
        "net": "Difference of the net change", "u_etpma_an": "ETPMA (difference per year)",
        "u_meur": "€m (difference per year)",
        "u_points": "percentage points", "u_relatif": "relative difference (%)",
        "u_proba": "probability of meeting the target", "no_targets": "no COG target for this perimeter", "proba": "Probability of meeting the target",
        "n_title": "Scenario comparison — {perimetre}",
        "n_header": "Scenario comparison — {perimetre} — \u201c{var}\u201d against \u201c{ref}\u201d",
        "n_footer": "cogsim — scenario comparison — page {i}/{n}",
        "l_runs": "Scenarios compared", "l_lecture_generale": "How to read it",
        "l_parametres": "What sets the scenarios apart", "l_organismes": "Every organisme and the published totals",
        "l_charts": "Charts", "l_reading": "Reading",
        "run_line": "Run \u201c{run_id}\u201d — file {file} — {mode}",
        "m_stoch": "{n} replicates, seed {seed}", "m_det": "deterministic",
        "n_convention": ("Every difference reads \u201cvariant − reference\u201d: a negative difference means the "
                         "variant is below the reference. The reference is run \u201c{ref}\u201d."),
        "n_paired": ("The runs share their seed and replicates: each replicate of the variant sees the same random "
                     "draws as the reference's, and the 90 % band of the difference is taken replicate by replicate."),
        "n_unpaired": ("The runs differ in seed or number of replicates: the differences are those of the means, "
                       "without a band."),
        "n_years": "Years compared: {a}–{z} (those the runs share).",
        "n_more": "… and {n} more parameters (full list in the workbook, sheet \u201cParameters\u201d).",
        "n_provenance": "Produced by cogsim {version} (commit {commit}) from the saved runs, without re-running them.",
        "h_parametre": "Parameter", "s_perimetre": "{perimetre}",
        "c_synthese": "Main differences — {perimetre} (\u201c{var}\u201d − \u201c{ref}\u201d)",
        "h_indicateur": "Indicator", "h_unite": "Unit", "h_ref": "Reference {z}", "h_var": "Variant {z}",
        "h_ecart": "Difference {z}", "h_bande": "90 % band of the difference", "h_cumul": "Cumulated difference {a}–{z}",
        "h_organisme": "Organisme", "u_pt": "points", "c_organismes": "Differences in {z}, variant − reference",
        "h_cible": "COG target", "h_ecart_proba": "Difference", "c_cibles": "Probability of meeting each target in {z}",
        "r_identique": "For {perimetre}, the variant does not differ from the reference.",
        "r_etpma": ("{perimetre}: the runs part from {y}; in {z}, {var} ETPMA in the variant against {ref} in the "
                    "reference ({d})."),
        "r_recrutements": "Hires cumulated over {a}–{z}: {d} persons against the reference.",
        "r_ms": "Wage bill: {d} €m in {z}, {cumul} €m cumulated over the period.",
        "r_part": "{v} {d} €m", "r_budget": "In {z}: {parts}.",
        "r_delai": "mean processing delay {var} days against {ref}",
        "r_appels": "share of calls answered {var} against {ref}",
        "r_service": "Service quality in {z}: {bits}.",
        "r_cibles": "Probability of meeting the targets in {z} (reference → variant): {items}.",
        "r_cibles_stables": "The probabilities of meeting the {z} targets do not change.",
        "s_readme": "Read me", "s_synthese": "Summary", "s_ecarts": "Differences", "s_cibles": "COG targets",
        "s_parametres": "Parameters", "k_titre": "Title", "k_reference": "Reference", "k_variante": "Variant",
        "k_annees": "Years", "k_perimetre": "Perimeter", "k_lecture": "Reading", "k_feuilles": "Sheets",
        "readme_feuilles": ("Summary: main differences by perimeter; Differences: every indicator, organisme and "
                            "year (the table of ecarts.csv); COG targets: probability of meeting each target, run by "
                            "run; Parameters: the parameters that differ."),
        "c_indicateur": "Code", "c_libelle": "Indicator", "c_unite": "Unit", "c_organisme": "Organisme",
        "c_annee": "Year", "c_reference": "Reference run", "c_variante": "Variant run",
        "c_valeur_reference": "Reference", "c_valeur_variante": "Variant", "c_ecart": "Difference",
        "c_ecart_relatif": "Relative difference", "c_ecart_p05": "Difference, 5th centile",
        "c_ecart_p95": "Difference, 95th centile",
    },
    "cibles": {
        "chances": "{p} chance", "atteinte": "met", "manquee": "missed",
        "oui": "met", "non": "missed", "moins_de": "< {p}", "plus_de": "> {p}",
        "etpma": "{org}, {delta} ETPMA in {z} against {a} (target {cible})",
        "ecart": "expected gap {e}", "ecart_un": "gap {e}", "deterministe": "deterministic run: target met or missed, not a probability",
        "une_replication": "a single replicate: target met or missed, not a probability",
        "sens_<=": "at most", "sens_>=": "at least",
    },
    "balayage": {
        "c_annee": "Year", "c_organisme": "Organisme", "c_code": "Code", "c_variable": "Variable",
        "c_unite": "Unit", "c_moyenne": "Mean", "c_p05": "5th centile", "c_p50": "Median",
        "c_p95": "95th centile", "c_ecart_type": "Standard deviation",
        "tous": "every organisme", "depuis": "{titre}, from {annee}",
        "plan": "sweep tables: {text}",
        "plan_table": "{table}: {k} of {n} variable(s), {rows} rows (cap {cap})",
        "plan_aucune": "{table} not written (one variable exceeds the cap of {cap} rows; the Zarr store keeps everything)",
        "plan_derniere": "; the workbook keeps the last year only",
        "lisez_moi": "Read me", "titre": "Title", "scenario": "Scenario", "replications": "Replicates",
        "graine": "Seed", "axe": "Swept axis", "statistiques": "Statistics",
        "statistiques_texte": ("mean, 5th centile, median, 95th centile and standard deviation over the replicates of "
                               "each point (common random numbers: replicate r draws the same dice at every point)"),
        "contenu": "Contents",
        "contenu_texte": ("{k} of {n} variable(s), one sheet each ({kept}); one row per point × year × organisme; "
                          "cap of {cap} rows; balayage.csv and the Zarr store keep more"),
        "source": "Source", "source_texte": "cogsim {version}, commit {commit}",
        "mode_stochastic": "{n} stochastic replicate(s) per point",
        "mode_deterministic": "deterministic (expected values, one replicate per point)",
        "t_carte": "{variable} — {org}, {annee}",
        "moyenne": "Mean of the replicates", "bande": "90 % band (5th–95th centiles)",
        "cible": "{cible} ({v})", "de_a": "{a} to {b} {u} depending on the point", "panneaux": "One panel per value of: {axes}",
        "contour": "Where the mean equals the target",
        "partout": "met at every point of the grid", "nulle_part": "missed at every point of the grid",
        "en_partie": "met at {k} points of {n}",
        "source_note": ("Source: cogsim {version}, sweep \u201c{titre}\u201d ({points} points, {mode}{commit})"
                        " — scenario \u201c{scenario}\u201d"),
        "n_rep": "{n} replicates per point, seed {seed}", "det": "deterministic", "commit": ", commit {commit}",
        "panneaux_omis": "{k} of {n} panels (extreme and middle values of the other axes)",
        "ecrit": "Sweep tables and charts written to",
        "devis": "estimate: ",
        "zarr": "{store}: {axes}; {r} replicate(s) per point, {v} variables × year × organisme × {stats}",
        "graphiques_listes": "{n} charts (.png, .svg, .pdf):",
    },
    # the library writes its messages in English: the same patterns, each leaving its text as it is
    "messages": {k: r"\g<0>" for k in FR["messages"]},
}

TABLES: dict[str, dict[str, dict[str, str]]] = {"fr": FR, "en": EN}


def table(lang: Lang) -> dict[str, dict[str, str]]:
    """The translation table of ``lang``; ValueError for another language."""
    if lang not in TABLES:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return TABLES[lang]


def variable_label(name: str, lang: Lang = "fr", attrs: Mapping[str, Any] | None = None) -> str:
    """The name of an output variable in a chart: its short name in the table of ``lang``, else its
    ``long_name_fr`` (French) or ``long_name`` (English) from ``attrs`` (the variable's attributes in a
    saved Dataset) or from the results' registry, else ``name`` itself."""
    short = table(lang)["variables"].get(name)
    if short is not None:
        return short
    key = "long_name_fr" if lang == "fr" else "long_name"
    if attrs and attrs.get(key):
        return str(attrs[key])
    if name in REGISTRE:
        _, long_name, long_name_fr, _ = REGISTRE[name]
        return long_name_fr if lang == "fr" else long_name
    return name


def _flat(lang: Lang) -> dict[str, str]:
    named = dict.fromkeys(k for t in TABLES.values() for k in t["variables"])
    return {**{k: variable_label(k, lang) for k in named}, **table(lang)["graphiques"]}


# the flat labels of the charts of a run, by language: the texts of the ``graphiques`` section and the
# name of every variable named in either table (:func:`variable_label`); the report reads them too
LABELS: dict[str, dict[str, str]] = {lang: _flat(lang) for lang in LANGS}


def labels_for(lang: Lang) -> dict[str, str]:
    """:data:`LABELS` of ``lang``; ValueError for another language."""
    table(lang)
    return LABELS[lang]


def org_label(organisme: str, lang: Lang = "fr") -> str:
    """Display name of an organisme or aggregate ("regime_general" → "Régime général")."""
    return table(lang)["organismes"].get(organisme, organisme)


def unit_label(units: str | None, lang: Lang = "fr") -> str:
    """Display form of a results ``units`` attribute ("MEUR/an" → "M€/an")."""
    if units is None:
        return ""
    unites = table(lang)["unites"]
    if units in unites:
        return unites[units]
    shown = units.replace("ETPMA_eq", unites["ETPMA_eq"])
    return "€/" + shown[4:] if shown.startswith("EUR/") else shown


def cible_label(code: str, lang: Lang = "fr") -> str:
    """Display name of a COG target (a value of the ``cible`` coordinate), from the targets' registry
    (:data:`model.results.cibles.CIBLES`); the code itself for an unknown target."""
    table(lang)
    c = PAR_CODE.get(code)
    if c is None:
        return code
    return c.libelle_fr if lang == "fr" else c.libelle


def traduire(text: str, lang: Lang = "fr") -> str:
    """A message of the library (written in English) in ``lang``: the patterns of the ``messages`` table
    applied in order (an "allowed" text may be a composite: each pattern that matches rewrites its part)."""
    out = str(text)
    for pattern, repl in table(lang)["messages"].items():
        out = re.sub(pattern, repl, out)
    return out


def probabilite_label(p: float, lang: Lang = "fr", deterministic: bool = False, space: str = "\u202f") -> str:
    """A probability of meeting a target as a planner reads it: "23 %" (rounded to the percent; "< 1 %"
    and "> 99 %" rather than a rounded 0 or 100 that the replicates did not give), "–" where there is
    no target; in a deterministic run "atteinte" or "manquée" (met or missed), never "100 %".

    ``space`` goes between the number and "%" in French (a narrow no-break space by default; the printed
    summary passes a plain space)."""
    t = table(lang)["cibles"]
    if p is None or not math.isfinite(p):
        return "–"
    if deterministic:
        return t["atteinte"] if p >= 0.5 else t["manquee"]

    def pct(v: float) -> str:
        return f"{v:.0f}{space if lang == 'fr' else ''}%"

    if 0.0 < p < 0.005:
        return t["moins_de"].format(p=pct(1))
    if 0.995 <= p < 1.0:
        return t["plus_de"].format(p=pct(99))
    return pct(100 * p)
