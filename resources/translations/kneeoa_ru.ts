<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU">
<context>
    <name>About</name>
    <message>
        <source>Accuracy</source>
        <translation>Точность</translation>
    </message>
    <message>
        <source>Quadratic-weighted κ</source>
        <translation>Каппа с квадратичными весами</translation>
    </message>
    <message>
        <source>Mean absolute error (grades)</source>
        <translation>Средняя абсолютная ошибка (в степенях)</translation>
    </message>
    <message>
        <source>OA (KL ≥ 2) AUC</source>
        <translation>AUC для остеоартрита (KL ≥ 2)</translation>
    </message>
    <message>
        <source>Kellgren–Lawrence grading of knee radiographs, with evidence maps showing where the network looked.</source>
        <translation>Оценка рентгенограмм коленного сустава по Келлгрену–Лоуренсу с картами признаков, показывающими, на что опиралась нейросеть.</translation>
    </message>
    <message>
        <source>Ensemble of</source>
        <translation>Ансамбль из</translation>
    </message>
    <message>
        <source>Model origin</source>
        <translation>Происхождение модели</translation>
    </message>
    <message>
        <source>Log file</source>
        <translation>Файл журнала</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Модель</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Вход</translation>
    </message>
    <message>
        <source>{0}×{1} pixels, gray</source>
        <translation>{0}×{1} пикс., оттенки серого</translation>
    </message>
    <message>
        <source>Grades</source>
        <translation>Степени</translation>
    </message>
    <message>
        <source>Site calibration</source>
        <translation>Калибровка под учреждение</translation>
    </message>
    <message>
        <source>none</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>Running on</source>
        <translation>Вычисления на</translation>
    </message>
    <message>
        <source>Evidence maps</source>
        <translation>Карты признаков</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>Валидация</translation>
    </message>
    <message>
        <source>no metrics recorded in the model card</source>
        <translation>метрики в карточке модели не указаны</translation>
    </message>
    <message>
        <source>Trained on</source>
        <translation>Обучена на</translation>
    </message>
    <message>
        <source>Sample radiographs (Help ▸ Open a sample radiograph): kneeKL224 images from Chen P., Knee Osteoarthritis Severity Grading Dataset, Mendeley Data 2018 (Osteoarthritis Initiative radiographs), CC BY 4.0; a replaced-knee film from NirantK/knee-xrays, MIT licence. Knee-joint detector weights: KneeLocalizer (Tiulpin et al., 2017), MIT licence. The model&apos;s networks start from the ImageNet weights of EfficientNet-Lite0 and Lite2 (Apache-2.0).</source>
        <translation>Примеры снимков (Справка ▸ Открыть пример снимка): изображения kneeKL224 из Chen P., Knee Osteoarthritis Severity Grading Dataset, Mendeley Data 2018 (снимки Osteoarthritis Initiative), CC BY 4.0; снимок эндопротезированных коленей из NirantK/knee-xrays, лицензия MIT. Веса детектора коленного сустава: KneeLocalizer (Tiulpin et al., 2017), лицензия MIT. Нейросети модели обучены, начиная с весов EfficientNet-Lite0 и Lite2 для ImageNet (Apache-2.0).</translation>
    </message>
</context>
<context>
    <name>CoreMessages</name>
    <message>
        <source>This is a folder, not an image file.</source>
        <translation>Это папка, а не файл изображения.</translation>
    </message>
    <message>
        <source>The file is larger than 1 GB, which is not a plausible radiograph.</source>
        <translation>Файл больше 1 ГБ — это не похоже на рентгенограмму.</translation>
    </message>
    <message>
        <source>The file does not exist.</source>
        <translation>Файл не существует.</translation>
    </message>
    <message>
        <source>The file cannot be read: permission denied.</source>
        <translation>Файл невозможно прочитать: доступ запрещён.</translation>
    </message>
    <message>
        <source>The file cannot be read ({0}).</source>
        <translation>Файл невозможно прочитать ({0}).</translation>
    </message>
    <message>
        <source>The file is empty.</source>
        <translation>Файл пуст.</translation>
    </message>
    <message>
        <source>This is not a supported image (PNG, JPEG, BMP, TIFF or DICOM).</source>
        <translation>Это не изображение поддерживаемого формата (PNG, JPEG, BMP, TIFF или DICOM).</translation>
    </message>
    <message>
        <source>The {0} file is damaged or truncated: its image size cannot be read.</source>
        <translation>Файл {0} повреждён или обрезан: размер изображения не удаётся прочитать.</translation>
    </message>
    <message>
        <source>The image header gives an invalid size.</source>
        <translation>В заголовке изображения указан недопустимый размер.</translation>
    </message>
    <message>
        <source>Images with {0} channels are not supported.</source>
        <translation>Изображения с {0} каналами не поддерживаются.</translation>
    </message>
    <message>
        <source>The image has an unsupported pixel layout.</source>
        <translation>Изображение имеет неподдерживаемую структуру пикселей.</translation>
    </message>
    <message>
        <source>The image holds no valid pixel values.</source>
        <translation>Изображение не содержит допустимых значений пикселей.</translation>
    </message>
    <message>
        <source>The DICOM file is damaged and cannot be read.</source>
        <translation>Файл DICOM повреждён и не может быть прочитан.</translation>
    </message>
    <message>
        <source>The DICOM file holds no image (no pixel data).</source>
        <translation>Файл DICOM не содержит изображения (нет пиксельных данных).</translation>
    </message>
    <message>
        <source>The DICOM file lacks a valid image size.</source>
        <translation>В файле DICOM не указан допустимый размер изображения.</translation>
    </message>
    <message>
        <source>The DICOM file announces an implausible number of frames.</source>
        <translation>В файле DICOM указано неправдоподобное число кадров.</translation>
    </message>
    <message>
        <source>The DICOM pixel data is damaged and cannot be decoded.</source>
        <translation>Пиксельные данные DICOM повреждены и не могут быть декодированы.</translation>
    </message>
    <message>
        <source>The DICOM pixel data uses the {0} compression, which cannot be decoded here.</source>
        <translation>Пиксельные данные DICOM используют сжатие {0}, которое здесь не удаётся декодировать.</translation>
    </message>
    <message>
        <source>The DICOM pixel data uses an unknown compression, which cannot be decoded here.</source>
        <translation>Пиксельные данные DICOM используют неизвестное сжатие, которое здесь не удаётся декодировать.</translation>
    </message>
    <message>
        <source>The DICOM image has an unsupported pixel layout.</source>
        <translation>Изображение DICOM имеет неподдерживаемую структуру пикселей.</translation>
    </message>
    <message>
        <source>The annotated image could not be encoded as PNG.</source>
        <translation>Не удалось закодировать аннотированное изображение в PNG.</translation>
    </message>
    <message>
        <source>The export would overwrite the source radiograph; choose another name.</source>
        <translation>Экспорт перезаписал бы исходную рентгенограмму; выберите другое имя.</translation>
    </message>
    <message>
        <source>The runtime file {0} is missing from {1}.</source>
        <translation>Файл среды выполнения {0} отсутствует в {1}.</translation>
    </message>
    <message>
        <source>The runtime file {0} is damaged or was altered (its checksum does not match the manifest).</source>
        <translation>Файл среды выполнения {0} повреждён или изменён (его контрольная сумма не совпадает с манифестом).</translation>
    </message>
    <message>
        <source>The model manifest must list exactly five KL grades.</source>
        <translation>Манифест модели должен перечислять ровно пять степеней KL.</translation>
    </message>
    <message>
        <source>The model manifest names a file outside its own folder.</source>
        <translation>Манифест модели ссылается на файл вне своей папки.</translation>
    </message>
    <message>
        <source>The model contains a Lambda layer (arbitrary code); it was not loaded.</source>
        <translation>Модель содержит слой Lambda (произвольный код); она не загружена.</translation>
    </message>
    <message>
        <source>Model downloads must use https; plain http is refused.</source>
        <translation>Модели загружаются только по https; обычный http не допускается.</translation>
    </message>
    <message>
        <source>The SHA-256 checksum must be 64 hexadecimal characters.</source>
        <translation>Контрольная сумма SHA-256 должна состоять из 64 шестнадцатеричных символов.</translation>
    </message>
    <message>
        <source>This model names no download source; give a URL and its SHA-256.</source>
        <translation>Для этой модели не указан источник загрузки; укажите URL и его SHA-256.</translation>
    </message>
    <message>
        <source>A download needs the SHA-256 checksum of the file it fetches.</source>
        <translation>Для загрузки нужна контрольная сумма SHA-256 загружаемого файла.</translation>
    </message>
    <message>
        <source>A model version may hold only letters, digits and . + _ - (at most 40).</source>
        <translation>Версия модели может содержать только буквы, цифры и символы . + _ - (не более 40).</translation>
    </message>
    <message>
        <source>The downloaded file does not match the expected SHA-256 checksum; it was deleted and the model in use is unchanged.</source>
        <translation>Загруженный файл не совпадает с ожидаемой контрольной суммой SHA-256; он удалён, текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The download was cancelled; the model in use is unchanged.</source>
        <translation>Загрузка отменена; текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>Google Drive did not hand out the file (is it shared with anyone who has the link?); the model in use is unchanged.</source>
        <translation>Google Диск не выдал файл (открыт ли доступ всем, у кого есть ссылка?); текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The downloaded model does not match its checksum; it was not installed.</source>
        <translation>Загруженная модель не совпадает со своей контрольной суммой; она не установлена.</translation>
    </message>
    <message>
        <source>The {0} file is damaged or truncated and cannot be decoded.</source>
        <translation>Файл {0} повреждён или обрезан и не может быть декодирован.</translation>
    </message>
    <message>
        <source>The image is {0}×{1} pixels; at least {2}×{2} is needed.</source>
        <translation>Размер изображения — {0}×{1} пикс.; требуется не менее {2}×{2}.</translation>
    </message>
    <message>
        <source>The selected region must be at least {0}×{0} pixels inside the image.</source>
        <translation>Выбранная область должна быть не меньше {0}×{0} пикс. в пределах изображения.</translation>
    </message>
    <message>
        <source>The folder {0} does not exist.</source>
        <translation>Папка {0} не существует.</translation>
    </message>
    <message>
        <source>Cannot write into {0}: permission denied or read-only.</source>
        <translation>Невозможно записать в {0}: доступ запрещён или папка только для чтения.</translation>
    </message>
    <message>
        <source>The disk holding {0} is full; nothing was written.</source>
        <translation>Диск, на котором находится {0}, заполнен; ничего не записано.</translation>
    </message>
    <message>
        <source>The export could not be written ({0}).</source>
        <translation>Не удалось записать экспортируемый файл ({0}).</translation>
    </message>
    <message>
        <source>The image is {0}×{1} pixels, more than the {2} megapixels this program accepts.</source>
        <translation>Размер изображения — {0}×{1} пикс., это больше допустимых в программе {2} мегапикселей.</translation>
    </message>
    <message>
        <source>The model file {0} is missing from {1}.</source>
        <translation>Файл модели {0} отсутствует в {1}.</translation>
    </message>
    <message>
        <source>The model file {0} is damaged or was altered (its checksum does not match the manifest).</source>
        <translation>Файл модели {0} повреждён или изменён (его контрольная сумма не совпадает с манифестом).</translation>
    </message>
    <message>
        <source>The model file {0} cannot be loaded ({1}).</source>
        <translation>Файл модели {0} не удаётся загрузить ({1}).</translation>
    </message>
    <message>
        <source>The model manifest {0} is missing.</source>
        <translation>Манифест модели {0} отсутствует.</translation>
    </message>
    <message>
        <source>The model manifest {0} is unreadable or damaged.</source>
        <translation>Манифест модели {0} не читается или повреждён.</translation>
    </message>
    <message>
        <source>The site profile {0} does not exist.</source>
        <translation>Профиль учреждения {0} не существует.</translation>
    </message>
    <message>
        <source>The site profile {0} is unreadable or damaged.</source>
        <translation>Профиль учреждения {0} не читается или повреждён.</translation>
    </message>
    <message>
        <source>The site profile {0} lacks required fields.</source>
        <translation>В профиле учреждения {0} нет обязательных полей.</translation>
    </message>
    <message>
        <source>The site profile {0} was fitted for another model ({1}); calibrate again for this one.</source>
        <translation>Профиль учреждения {0} подобран для другой модели ({1}); выполните калибровку заново для этой.</translation>
    </message>
    <message>
        <source>The site profile {0} holds values out of range; it was not used.</source>
        <translation>Профиль учреждения {0} содержит недопустимые значения; он не использован.</translation>
    </message>
    <message>
        <source>The model manifest {0} lacks required fields.</source>
        <translation>В манифесте модели {0} нет обязательных полей.</translation>
    </message>
    <message>
        <source>The model contains an unknown layer type ({0}); it was not loaded.</source>
        <translation>Модель содержит неизвестный тип слоя ({0}); она не загружена.</translation>
    </message>
    <message>
        <source>The model&apos;s shape {0}→{1} does not match its manifest ({2} gray → {3} grades).</source>
        <translation>Форма модели {0}→{1} не соответствует её манифесту ({2} в оттенках серого → {3} степеней).</translation>
    </message>
    <message>
        <source>The model could not be loaded ({0}).</source>
        <translation>Не удалось загрузить модель ({0}).</translation>
    </message>
    <message>
        <source>An unexpected error occurred while grading ({0}); details are in the log file.</source>
        <translation>При оценке произошла непредвиденная ошибка ({0}); подробности — в файле журнала.</translation>
    </message>
    <message>
        <source>&apos;{0}&apos; is neither an https URL nor a Google Drive file id.</source>
        <translation>«{0}» — не адрес https и не идентификатор файла на Google Диске.</translation>
    </message>
    <message>
        <source>Cannot create the download folder {0} ({1}).</source>
        <translation>Не удаётся создать папку для загрузки {0} ({1}).</translation>
    </message>
    <message>
        <source>The downloaded model cannot be used ({0}); the model in use is unchanged.</source>
        <translation>Загруженную модель нельзя использовать ({0}); текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The model could not be saved in {0} ({1}); the model in use is unchanged.</source>
        <translation>Не удалось сохранить модель в {0} ({1}); текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The server refused the download (HTTP {0}); the model in use is unchanged.</source>
        <translation>Сервер отказал в загрузке (HTTP {0}); текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The server {0} did not answer within {1} s; the model in use is unchanged.</source>
        <translation>Сервер {0} не ответил за {1} с; текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The connection to {0} failed or dropped; the part received is kept so that the next attempt resumes, and the model in use is unchanged.</source>
        <translation>Соединение с {0} не установлено или оборвалось; полученная часть сохранена, и следующая попытка продолжит загрузку; текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>The download could not be written to {0} ({1}); the model in use is unchanged.</source>
        <translation>Не удалось записать загружаемый файл в {0} ({1}); текущая модель не изменилась.</translation>
    </message>
    <message>
        <source>Could not switch back to the bundled model ({0}).</source>
        <translation>Не удалось вернуться к встроенной модели ({0}).</translation>
    </message>
    <message>
        <source>There is not enough memory to grade this image.</source>
        <translation>Недостаточно памяти для оценки этого изображения.</translation>
    </message>
    <message>
        <source>The download failed unexpectedly; details are in the log file.</source>
        <translation>Загрузка неожиданно завершилась ошибкой; подробности — в файле журнала.</translation>
    </message>
    <message>
        <source>This looks like a lateral view; KL grading needs a PA or AP view.</source>
        <translation>Похоже на боковую проекцию; для оценки по Келлгрену–Лоуренсу нужна прямая (PA или AP) проекция.</translation>
    </message>
    <message>
        <source>Metal implant: a replaced joint cannot be KL-graded.</source>
        <translation>Металлический имплант: эндопротезированный сустав нельзя оценить по Келлгрену–Лоуренсу.</translation>
    </message>
    <message>
        <source>This does not look like a PA or AP knee radiograph; a lateral view or another body part cannot be KL-graded.</source>
        <translation>Это не похоже на прямую (PA или AP) рентгенограмму коленного сустава; боковую проекцию или другую часть тела нельзя оценить по Келлгрену–Лоуренсу.</translation>
    </message>
    <message>
        <source>Unusual image for this model; check the grade.</source>
        <translation>Необычное для этой модели изображение; проверьте оценку.</translation>
    </message>
    <message>
        <source>Unknown engine {0} (choose from {1}).</source>
        <translation>Неизвестный движок {0} (выберите из: {1}).</translation>
    </message>
    <message>
        <source>The model {0} has no runtime file for ONNX Runtime; grade it with the TensorFlow engine (--engine tensorflow).</source>
        <translation>У модели {0} нет файла для ONNX Runtime; оценивайте её движком TensorFlow (--engine tensorflow).</translation>
    </message>
    <message>
        <source>ONNX Runtime is not installed (pip install onnxruntime).</source>
        <translation>ONNX Runtime не установлен (pip install onnxruntime).</translation>
    </message>
    <message>
        <source>The model {0} has no runtime file, and the TensorFlow engine that could grade it is not installed (pip install &quot;kneeoa-desktop[tensorflow]&quot;).</source>
        <translation>У модели {0} нет файла среды выполнения, а движок TensorFlow, который мог бы её оценить, не установлен (pip install &quot;kneeoa-desktop[tensorflow]&quot;).</translation>
    </message>
    <message>
        <source>The TensorFlow engine is not installed (pip install &quot;kneeoa-desktop[tensorflow]&quot;).</source>
        <translation>Движок TensorFlow не установлен (pip install &quot;kneeoa-desktop[tensorflow]&quot;).</translation>
    </message>
    <message>
        <source>The runtime file {0} cannot be loaded ({1}).</source>
        <translation>Файл среды выполнения {0} не удаётся загрузить ({1}).</translation>
    </message>
    <message>
        <source>The runtime file {0} does not fit its manifest (its inputs or outputs differ).</source>
        <translation>Файл среды выполнения {0} не соответствует манифесту (отличаются его входы или выходы).</translation>
    </message>
    <message>
        <source>The runtime file {0} cannot be loaded (it no longer gives its model&apos;s results on the release&apos;s probe).</source>
        <translation>Файл среды выполнения {0} не удаётся загрузить (он больше не даёт результатов своей модели на контрольном входе выпуска).</translation>
    </message>
</context>
<context>
    <name>ExportController</name>
    <message>
        <source>The export failed unexpectedly ({0}).</source>
        <translation>Экспорт неожиданно завершился ошибкой ({0}).</translation>
    </message>
    <message>
        <source>Exported {0}</source>
        <translation>Экспортировано: {0}</translation>
    </message>
</context>
<context>
    <name>Grades</name>
    <message>
        <source>none</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>doubtful</source>
        <translation>сомнительные</translation>
    </message>
    <message>
        <source>minimal</source>
        <translation>минимальные</translation>
    </message>
    <message>
        <source>moderate</source>
        <translation>умеренные</translation>
    </message>
    <message>
        <source>severe</source>
        <translation>выраженные</translation>
    </message>
    <message>
        <source>Decision support only — not a diagnosis</source>
        <translation>Только поддержка принятия решений — не диагноз</translation>
    </message>
</context>
<context>
    <name>KneeTabs</name>
    <message>
        <source>Right knee (R)</source>
        <translation>Правое колено (R)</translation>
    </message>
    <message>
        <source>Left knee (L)</source>
        <translation>Левое колено (L)</translation>
    </message>
    <message>
        <source>Knee {0}</source>
        <translation>Колено {0}</translation>
    </message>
    <message>
        <source>Not graded: outside what the model can grade</source>
        <translation>Не оценено: вне того, что модель может оценить</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Radiographs ({0})</source>
        <translation>Рентгенограммы ({0})</translation>
    </message>
    <message>
        <source>DICOM files ({0})</source>
        <translation>Файлы DICOM ({0})</translation>
    </message>
    <message>
        <source>All files ({0})</source>
        <translation>Все файлы ({0})</translation>
    </message>
    <message>
        <source>Open radiograph</source>
        <translation>Открыть рентгенограмму</translation>
    </message>
    <message>
        <source>Graded {0}</source>
        <translation>Оценено: {0}</translation>
    </message>
    <message>
        <source>Export annotated PNG</source>
        <translation>Экспорт аннотированного PNG</translation>
    </message>
    <message>
        <source>PNG images ({0})</source>
        <translation>Изображения PNG ({0})</translation>
    </message>
    <message>
        <source>About {0}</source>
        <translation>О программе {0}</translation>
    </message>
    <message>
        <source>The log folder {0} cannot be created.</source>
        <translation>Не удаётся создать папку журнала {0}.</translation>
    </message>
    <message>
        <source>No program is set up to open folders; the log folder is {0}.</source>
        <translation>Не настроена программа для открытия папок; папка журнала: {0}.</translation>
    </message>
    <message>
        <source>Open a knee radiograph (Ctrl+O)
or drop an image or DICOM file here

No radiograph at hand? Help ▸ Open a sample radiograph</source>
        <translation>Откройте снимок колена (Ctrl+O)
или перетащите сюда изображение или файл DICOM

Нет снимка под рукой? Справка ▸ Открыть пример снимка</translation>
    </message>
</context>
<context>
    <name>ModelController</name>
    <message>
        <source>Now using model {0}.</source>
        <translation>Теперь используется модель {0}.</translation>
    </message>
    <message>
        <source>The model that came with KneeOA Desktop is missing or damaged, so no radiograph can be graded. Please reinstall KneeOA Desktop.</source>
        <translation>Модель, поставляемая с KneeOA Desktop, отсутствует или повреждена, поэтому оценить рентгенограмму невозможно. Переустановите KneeOA Desktop.</translation>
    </message>
    <message>
        <source>The model in use was {0} and cannot be loaded, so no radiograph can be graded. Restore the model bundled with the program to go on grading; the downloaded file is kept.</source>
        <translation>Текущая модель {0}, но её не удаётся загрузить, поэтому оценить рентгенограмму невозможно. Чтобы продолжить работу, восстановите встроенную модель программы; загруженный файл сохранится.</translation>
    </message>
    <message>
        <source>Restore bundled model</source>
        <translation>Восстановить встроенную модель</translation>
    </message>
    <message>
        <source>Download cancelled.</source>
        <translation>Загрузка отменена.</translation>
    </message>
    <message>
        <source>Model {0} is installed and in use.</source>
        <translation>Модель {0} установлена и используется.</translation>
    </message>
    <message>
        <source>Origin: {0}.</source>
        <translation>Происхождение: {0}.</translation>
    </message>
</context>
<context>
    <name>ModelUpdateDialog</name>
    <message>
        <source>Check for model update</source>
        <translation>Проверка обновления модели</translation>
    </message>
    <message>
        <source>Model in use</source>
        <translation>Текущая модель</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>Модель:</translation>
    </message>
    <message>
        <source>Origin:</source>
        <translation>Происхождение:</translation>
    </message>
    <message>
        <source>SHA-256:</source>
        <translation>Хеш SHA-256:</translation>
    </message>
    <message>
        <source>Download a model</source>
        <translation>Загрузка модели</translation>
    </message>
    <message>
        <source>https://… or a Google Drive file id</source>
        <translation>https://… или идентификатор файла на Google Диске</translation>
    </message>
    <message>
        <source>64 hexadecimal characters, from the release notes</source>
        <translation>64 шестнадцатеричных символа из примечаний к выпуску</translation>
    </message>
    <message>
        <source>optional, e.g. 0.3.0</source>
        <translation>необязательно, например 0.3.0</translation>
    </message>
    <message>
        <source>&amp;Source:</source>
        <translation>&amp;Источник:</translation>
    </message>
    <message>
        <source>SHA-&amp;256:</source>
        <translation>&amp;Хеш SHA-256:</translation>
    </message>
    <message>
        <source>&amp;Version:</source>
        <translation>&amp;Версия:</translation>
    </message>
    <message>
        <source>The file is checked against its checksum and test-loaded before it replaces the model in use; the model bundled with the program is always kept.</source>
        <translation>Прежде чем заменить текущую модель, файл сверяется с контрольной суммой и пробно загружается; встроенная модель программы всегда сохраняется.</translation>
    </message>
    <message>
        <source>&amp;Restore bundled model</source>
        <translation>&amp;Восстановить встроенную модель</translation>
    </message>
    <message>
        <source>Use the model that came with the program again; downloaded files are kept</source>
        <translation>Снова использовать модель, поставляемую с программой; загруженные файлы сохраняются</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>&amp;Загрузить</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Закрыть</translation>
    </message>
    <message>
        <source>The address and checksum named by the bundled model card are filled in. For a newer model, paste those given in its release notes.</source>
        <translation>Подставлены адрес и контрольная сумма из карточки встроенной модели. Для более новой модели вставьте те, что указаны в примечаниях к её выпуску.</translation>
    </message>
    <message>
        <source>No download address is configured for this model. Paste the address and SHA-256 checksum given in the release notes of the newer model.</source>
        <translation>Для этой модели адрес загрузки не задан. Вставьте адрес и контрольную сумму SHA-256 из примечаний к выпуску новой модели.</translation>
    </message>
    <message>
        <source>Enter the address of the model file (an https URL) or its Google Drive file id.</source>
        <translation>Введите адрес файла модели (URL https) или идентификатор файла на Google Диске.</translation>
    </message>
    <message>
        <source>The version may hold only letters, digits, dots, dashes, plus signs and underscores (e.g. 0.3.0).</source>
        <translation>Версия может содержать только буквы, цифры, точки, дефисы, знаки «плюс» и подчёркивания (например, 0.3.0).</translation>
    </message>
    <message>
        <source>Downloading model</source>
        <translation>Загрузка модели</translation>
    </message>
    <message>
        <source>Connecting to {0}…</source>
        <translation>Подключение к {0}…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Отмена</translation>
    </message>
    <message>
        <source>Downloading from {0}: {1} of {2}</source>
        <translation>Загрузка с {0}: {1} из {2}</translation>
    </message>
    <message>
        <source>Downloading from {0}: {1} received</source>
        <translation>Загрузка с {0}: получено {1}</translation>
    </message>
    <message>
        <source>Checking the downloaded model…</source>
        <translation>Проверка загруженной модели…</translation>
    </message>
    <message>
        <source>The model bundled with the program is in use again.</source>
        <translation>Снова используется встроенная модель программы.</translation>
    </message>
    <message>
        <source>{0} KB</source>
        <translation>{0} КБ</translation>
    </message>
    <message>
        <source>{0} MB</source>
        <translation>{0} МБ</translation>
    </message>
</context>
<context>
    <name>Models</name>
    <message>
        <source>bundled with the program</source>
        <translation>поставляется с программой</translation>
    </message>
    <message>
        <source>downloaded from {0} on {1}</source>
        <translation>загружена {1} с {0}</translation>
    </message>
    <message>
        <source>downloaded from {0}</source>
        <translation>загружена с {0}</translation>
    </message>
</context>
<context>
    <name>OverlayControls</name>
    <message>
        <source>Evidence overlay</source>
        <translation>Карта признаков</translation>
    </message>
    <message>
        <source>Show evidence overlay</source>
        <translation>Показывать карту признаков</translation>
    </message>
    <message>
        <source>Brightness</source>
        <translation>Яркость</translation>
    </message>
    <message>
        <source>Evidence for</source>
        <translation>Признаки для</translation>
    </message>
    <message>
        <source>Evidence of each grade (click to show)</source>
        <translation>Признаки каждой степени (нажмите, чтобы показать)</translation>
    </message>
    <message>
        <source>{0} — predicted</source>
        <translation>{0} — прогноз модели</translation>
    </message>
    <message>
        <source>Show the evidence for {0}</source>
        <translation>Показать признаки для {0}</translation>
    </message>
</context>
<context>
    <name>Samples</name>
    <message>
        <source>Single knee, no osteoarthritis (KL0)</source>
        <translation>Одно колено, остеоартрита нет (KL0)</translation>
    </message>
    <message>
        <source>Single knee, minimal osteoarthritis (KL2)</source>
        <translation>Одно колено, минимальный остеоартрит (KL2)</translation>
    </message>
    <message>
        <source>Single knee, severe osteoarthritis (KL4)</source>
        <translation>Одно колено, тяжёлый остеоартрит (KL4)</translation>
    </message>
    <message>
        <source>Both knees replaced (out of scope)</source>
        <translation>Оба колена эндопротезированы (вне области применения)</translation>
    </message>
</context>
<context>
    <name>SidePanel</name>
    <message>
        <source>No image open.</source>
        <translation>Изображение не открыто.</translation>
    </message>
    <message>
        <source>{0}×{1} pixels, {2}, {3}-bit</source>
        <translation>{0}×{1} пикс., {2}, {3} бит</translation>
    </message>
    <message>
        <source>Graded: the whole image</source>
        <translation>Оценено: всё изображение</translation>
    </message>
    <message>
        <source>Graded: region {0}×{1} at ({2}, {3})</source>
        <translation>Оценено: область {0}×{1} в точке ({2}, {3})</translation>
    </message>
    <message>
        <source>Evidence shown: {0}</source>
        <translation>Показаны признаки: {0}</translation>
    </message>
    <message>
        <source>Radiograph</source>
        <translation>Рентгенограмма</translation>
    </message>
</context>
<context>
    <name>SiteController</name>
    <message>
        <source>Site calibration</source>
        <translation>Калибровка под учреждение</translation>
    </message>
    <message>
        <source>Site profiles (*.json);;All files (*)</source>
        <translation>Профили учреждения (*.json);;Все файлы (*)</translation>
    </message>
    <message>
        <source>Calibrated for {0} ({1} films, {2})</source>
        <translation>Откалибровано для {0} ({1} снимков, {2})</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>&amp;Настройки</translation>
    </message>
    <message>
        <source>Site &amp;calibration…</source>
        <translation>&amp;Калибровка под учреждение…</translation>
    </message>
    <message>
        <source>Grade as calibrated for your site (a profile written by kneeoa calibrate)</source>
        <translation>Оценивать с калибровкой под ваше учреждение (профиль, созданный kneeoa calibrate)</translation>
    </message>
    <message>
        <source>Clear site calibration</source>
        <translation>Отключить калибровку под учреждение</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>Loading model…</source>
        <translation>Загрузка модели…</translation>
    </message>
    <message>
        <source>Grading {0}…</source>
        <translation>Оценка {0}…</translation>
    </message>
    <message>
        <source>Model unavailable</source>
        <translation>Модель недоступна</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Готово</translation>
    </message>
    <message>
        <source>Device: {0}</source>
        <translation>Устройство: {0}</translation>
    </message>
    <message>
        <source>Model: {0} (downloaded)</source>
        <translation>Модель: {0} (загружена)</translation>
    </message>
    <message>
        <source>Model: {0}</source>
        <translation>Модель: {0}</translation>
    </message>
    <message>
        <source>Device: —</source>
        <translation>Устройство: —</translation>
    </message>
    <message>
        <source>Model: unavailable</source>
        <translation>Модель: недоступна</translation>
    </message>
    <message>
        <source>Model: loading…</source>
        <translation>Модель: загрузка…</translation>
    </message>
    <message>
        <source>Last grading: —</source>
        <translation>Последняя оценка: —</translation>
    </message>
    <message>
        <source>Last grading: {0} ms</source>
        <translation>Последняя оценка: {0} мс</translation>
    </message>
</context>
<context>
    <name>Unexpected</name>
    <message>
        <source>An unexpected error occurred; details are in the log file {0}.</source>
        <translation>Произошла непредвиденная ошибка; подробности — в файле журнала {0}.</translation>
    </message>
    <message>
        <source>An unexpected error occurred ({0}); the program goes on.</source>
        <translation>Произошла непредвиденная ошибка ({0}); программа продолжает работу.</translation>
    </message>
</context>
<context>
    <name>VerdictPane</name>
    <message>
        <source>no image graded yet</source>
        <translation>изображение ещё не оценено</translation>
    </message>
    <message>
        <source>Low confidence: no grade has more than {0} probability (below {1}). Weigh this result with particular care.</source>
        <translation>Низкая уверенность: ни у одной степени вероятность не превышает {0} (порог — {1}). Относитесь к этому результату с особой осторожностью.</translation>
    </message>
    <message>
        <source>Predicted Kellgren–Lawrence grade</source>
        <translation>Предсказанная степень по Келлгрену–Лоуренсу</translation>
    </message>
    <message>
        <source>Osteoarthritis (KL ≥ 2) probability</source>
        <translation>Вероятность остеоартрита (KL ≥ 2)</translation>
    </message>
    <message>
        <source>Probability of each grade</source>
        <translation>Вероятность каждой степени</translation>
    </message>
    <message>
        <source>Not graded</source>
        <translation>Не оценено</translation>
    </message>
    <message>
        <source>Outside what the model can grade:</source>
        <translation>Вне того, что модель может оценить:</translation>
    </message>
    <message>
        <source>The probabilities below are shown for reference only.</source>
        <translation>Вероятности ниже приведены только для справки.</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>&amp;Недавние файлы</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Язык</translation>
    </message>
    <message>
        <source>&amp;Region</source>
        <translation>&amp;Область</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <source>Open a &amp;sample radiograph</source>
        <translation>Открыть &amp;пример снимка</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>Основная панель инструментов</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>&amp;Открыть…</translation>
    </message>
    <message>
        <source>Open a radiograph (PNG, JPEG, BMP, TIFF, DICOM)</source>
        <translation>Открыть рентгенограмму (PNG, JPEG, BMP, TIFF, DICOM)</translation>
    </message>
    <message>
        <source>&amp;Export annotated PNG…</source>
        <translation>&amp;Экспорт аннотированного PNG…</translation>
    </message>
    <message>
        <source>Save the radiograph, evidence overlay and verdict as a PNG</source>
        <translation>Сохранить рентгенограмму, карту признаков и заключение в PNG</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>В&amp;ыход</translation>
    </message>
    <message>
        <source>&amp;Clear list</source>
        <translation>&amp;Очистить список</translation>
    </message>
    <message>
        <source>Include DICOM &amp;patient details in exports</source>
        <translation>Включать в экспорт &amp;данные пациента из DICOM</translation>
    </message>
    <message>
        <source>&amp;Select knee region</source>
        <translation>&amp;Выделить область сустава</translation>
    </message>
    <message>
        <source>Drag a square around one knee joint; only that region is graded</source>
        <translation>Обведите квадратом один коленный сустав; оценивается только эта область</translation>
    </message>
    <message>
        <source>&amp;Clear region</source>
        <translation>&amp;Сбросить область</translation>
    </message>
    <message>
        <source>Forget the drawn region and find the knees automatically again</source>
        <translation>Забыть выделенную область и снова найти суставы автоматически</translation>
    </message>
    <message>
        <source>&amp;Reset zoom (fit to window)</source>
        <translation>&amp;Сбросить масштаб (по размеру окна)</translation>
    </message>
    <message>
        <source>Fit the whole image into the pane</source>
        <translation>Вписать изображение целиком в область просмотра</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>&amp;Увеличить</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>У&amp;меньшить</translation>
    </message>
    <message>
        <source>Show evidence &amp;overlay</source>
        <translation>Показывать &amp;карту признаков</translation>
    </message>
    <message>
        <source>&amp;About KneeOA Desktop</source>
        <translation>&amp;О программе KneeOA Desktop</translation>
    </message>
    <message>
        <source>Check for model &amp;update…</source>
        <translation>Проверить обновление &amp;модели…</translation>
    </message>
    <message>
        <source>Download a newer model, or go back to the one bundled with the program</source>
        <translation>Загрузить более новую модель или вернуться к встроенной модели программы</translation>
    </message>
    <message>
        <source>Show &amp;log folder</source>
        <translation>Показать папку &amp;журнала</translation>
    </message>
    <message>
        <source>Open the folder holding the program&apos;s log file</source>
        <translation>Открыть папку с файлом журнала программы</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>О &amp;Qt</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Экспорт</translation>
    </message>
    <message>
        <source>Select region</source>
        <translation>Выделить область</translation>
    </message>
    <message>
        <source>Clear region</source>
        <translation>Сбросить область</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>По размеру</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Как в системе</translation>
    </message>
</context>
</TS>
